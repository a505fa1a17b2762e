package gate

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

const fixturePolicy = `version: 1
parent: ""
loosen_delay: 48h
approval_ttl: 24h
admins:
  quorum: 1
  members:
    - id: admin
      key: "%ADMIN%"
roles: [withdrawal]
groups:
  - id: treasury
officers:
  - id: tom
    key: "%ADMIN%"
    groups: [treasury]
assets:
  - id: BTC
    chain: btc
wallets:
  - id: btc-hot
    chain: btc
    network: regtest
    class: hot
    key_id: k1
    addresses: ["%HOT%"]
  - id: btc-cold
    chain: btc
    network: regtest
    class: cold
    key_id: k2
    addresses: ["%COLD%"]
invariants:
  pinned_destinations:
    - wallet: btc-cold
      to: [btc-hot]
  fee_caps:
    - chain: btc
      max_fee: "500000"
rules:
  - id: sweep
    match:
      source: {wallets: [btc-hot]}
      destination: {classes: [cold]}
      assets: [BTC]
    action: allow
    limits:
      - {scope: rule, window: 24h, max_amount: "2100000000000000", max_count: 100000000}
      - {scope: source, window: 1h, max_amount: "2100000000000000"}
      - {scope: destination, window: 24h, max_amount: "2100000000000000"}
`

// fixture is a gate over a real ledger in a temp bbolt file, with a
// policy of two wallets whose keys the ledger holds.
type fixture struct {
	g      *Gate
	store  *ledger.Store
	pv     *PolicyView
	hotPub []byte
}

func newFixture(t testing.TB) *fixture { return newFixtureWith(t, fixturePolicy) }

func newFixtureWith(t testing.TB, doc string) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ledger.Open(filepath.Join(t.TempDir(), "node.db"), ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hot, _ := btcec.NewPrivateKey()
	cold, _ := btcec.NewPrivateKey()
	hotPub, coldPub := hot.PubKey().SerializeCompressed(), cold.PubKey().SerializeCompressed()
	hotAddr, _ := btc.P2WPKHAddress(hotPub, "regtest")
	coldAddr, _ := btc.P2WPKHAddress(coldPub, "regtest")
	adminPub, _, _ := ed25519.GenerateKey(rand.Reader)
	pk, _ := policy.PublicKeyFrom(adminPub)
	p, err := policy.Load([]byte(strings.NewReplacer("%ADMIN%", pk.String(), "%HOT%", hotAddr, "%COLD%", coldAddr).Replace(doc)))
	if err != nil {
		t.Fatal(err)
	}
	pv, err := NewPolicyView(p)
	if err != nil {
		t.Fatal(err)
	}
	for id, pub := range map[string][]byte{"k1": hotPub, "k2": coldPub} {
		err := st.PutKey(ledger.KeyRecord{ID: id, PublicKey: pub, ChainCode: ctss.ChainCode(pub), Threshold: 1,
			Committee: []ledger.Member{{Node: "node1"}, {Node: "node2"}}, SealedShare: []byte("sealed")})
		if err != nil {
			t.Fatal(err)
		}
	}
	g, err := New(Config{Store: st, Log: log, Now: time.Now, SessionTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{g: g, store: st, pv: pv, hotPub: hotPub}
}

// sweep builds and records a hot→cold sweep.
func (f *fixture) sweep(t testing.TB, id string, amount int64, now time.Time) (*Built, ledger.Transfer) {
	t.Helper()
	txid := sha256.Sum256([]byte(id))
	utxo := &transferpb.UTXO{Txid: hex.EncodeToString(txid[:]), Vout: 0, Amount: amount + 100_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(f.hotPub)...)}
	in := &transferpb.Intent{RequestId: id, SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: strconv.FormatInt(amount, 10),
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
	b, err := f.g.Build(f.pv, in, "svc", "withdrawal", now)
	if err != nil {
		t.Fatal(err)
	}
	tr := ledger.Transfer{ID: id, Digest: b.Digest[:], Home: "node1", Initiator: "svc", InitiatorRole: "withdrawal",
		Source: b.Src.ID, Chain: "btc", Asset: "BTC", Amount: b.Req.Amount.Big().String(), To: b.To, Intent: b.Canon,
		PolicyHash: f.pv.Hash, SubmittedAt: now, ExpiresAt: b.Expires, State: ledger.StateReady}
	got, err := f.store.Apply(ledger.Command{Kind: ledger.CmdSubmit, At: now, Node: "node1", Submit: &tr})
	if err != nil {
		t.Fatal(err)
	}
	return b, got
}
