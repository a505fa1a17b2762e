package signer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// TestBackdatedWhitelistEntryWaitsForFirstSight: a version adds a
// whitelist entry whose added_at claims 2020. The entry is not active
// before this node first saw it in an effective version plus the
// whitelist's active_after, whatever the document claims; then it is.
func TestBackdatedWhitelistEntryWaitsForFirstSight(t *testing.T) {
	n, _, _, hotPub, admin := gateNodeAdmin(t)
	ctx := context.Background()
	genesis, err := os.ReadFile(n.cfg.Policy.File)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := policy.Load(genesis)
	if err != nil {
		t.Fatal(err)
	}
	partnerKey, _ := btcec.NewPrivateKey()
	partner, _ := btc.P2WPKHAddress(partnerKey.PubKey().SerializeCompressed(), "regtest")
	doc := strings.Replace(string(genesis), "version: 1\nparent: \"\"", "version: 2\nparent: \""+p1.Hash().String()+"\"", 1)
	doc = strings.Replace(doc, "invariants:", `whitelists:
  - id: partners
    chain: btc
    active_after: 1h
    entries:
      - address: `+partner+`
        label: back-dated partner
        added_at: 2020-01-01T00:00:00Z
invariants:`, 1)
	doc += `  - id: to-partner
    match:
      source: {wallets: [btc-hot]}
      destination: {whitelists: [partners]}
      assets: [BTC]
    action: allow
`
	p2, err := policy.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := policy.SignPolicy(rand.Reader, ed25519.PrivateKey(admin), "admin", p2.Hash())
	sigJSON, _ := json.Marshal(sig)
	v, err := n.submitPolicy(ctx, []byte(doc), [][]byte{sigJSON})
	if err != nil {
		t.Fatal(err)
	}
	if v.Change.Kind != policy.Loosening {
		t.Fatalf("a new whitelist entry is a %s change", v.Change.Kind)
	}
	key := ledger.WhitelistEntryKey{Whitelist: "partners", Address: partner}
	seen, ok, err := n.store.WhitelistSeen(key)
	if err != nil || !ok {
		t.Fatalf("the node did not record seeing the entry: %v %v", ok, err)
	}
	if !seen.Equal(v.EffectiveAt) {
		t.Fatalf("first sight %s, want the version's effective time %s (later than now)", seen, v.EffectiveAt)
	}

	in := &transferpb.Intent{RequestId: "to-partner-1", SourceWallet: "btc-hot", Destination: partner, Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{FeeRate: 2000, MaxFee: 100000, Utxos: []*transferpb.UTXO{{Txid: strings.Repeat("ab", 32), Vout: 1, Amount: 500_000,
			PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(hotPub)...)}}}}
	decide := func(at time.Time) policy.Decision {
		t.Helper()
		pv, err := n.activePolicy(at)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Hash != p2.Hash().String() {
			t.Fatalf("at %s the active policy is %.12s, not version 2", at, pv.Hash)
		}
		b, err := n.gate.Build(pv, in, "svc", "withdrawal", at)
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := n.gate.Decide(pv, b, ledger.Transfer{}, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// added_at + active_after passed years ago; the version is in effect
	d := decide(v.EffectiveAt.Add(30 * time.Minute))
	if d.Allowed() || !strings.Contains(strings.Join(d.Trace, "\n"), "not active until "+seen.Add(time.Hour).Format(time.RFC3339Nano)) {
		t.Fatalf("fail/a back-dated entry was active before first sight + active_after: %s %s\n%s", d.Effect, d.Reason, strings.Join(d.Trace, "\n"))
	}
	if d = decide(seen.Add(time.Hour + time.Second)); !d.Allowed() || d.Rule != "to-partner" {
		t.Fatalf("ok/after first sight + active_after the entry is active: %s %s %s", d.Effect, d.Rule, d.Reason)
	}
	// a restart (the same sync) keeps the first sight
	if err := n.syncWhitelistSeen(); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := n.store.WhitelistSeen(key); !again.Equal(seen) {
		t.Fatalf("first sight moved from %s to %s", seen, again)
	}
}
