package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
)

// sweepIntent is a hot→cold sweep of amount sat.
func sweepIntent(f *fixture, id string, amount int64) *transferpb.Intent {
	txid := sha256.Sum256([]byte(id))
	utxo := &transferpb.UTXO{Txid: hex.EncodeToString(txid[:]), Vout: 0, Amount: amount + 100_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(f.hotPub)...)}
	return &transferpb.Intent{RequestId: id, SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
}

// A cold wallet whose address its key does not derive: the policy is
// refused before activation, and a sweep to it is not built (funds sent
// there would be out of the cluster's control).
func TestOwnWalletAddressesDeriveFromTheirKeys(t *testing.T) {
	f := newFixture(t)
	if err := f.g.CheckWallets(f.pv); err != nil {
		t.Fatalf("positive control: the fixture's wallets derive from their keys: %v", err)
	}
	if _, err := f.g.Build(f.pv, sweepIntent(f, "ok-1", 100_000), "svc", "withdrawal", time.Now()); err != nil {
		t.Fatalf("positive control: %v", err)
	}
	stranger, _ := btcec.NewPrivateKey()
	foreign, _ := btc.P2WPKHAddress(stranger.PubKey().SerializeCompressed(), "regtest")
	bad := newFixtureWith(t, strings.Replace(fixturePolicy, `addresses: ["%COLD%"]`, `addresses: ["`+foreign+`"]`, 1))
	if err := bad.g.CheckWallets(bad.pv); err == nil || !strings.Contains(err.Error(), "btc-cold") {
		t.Fatalf("a cold address its key does not derive: %v", err)
	}
	if _, err := bad.g.Build(bad.pv, sweepIntent(bad, "bad-1", 100_000), "svc", "withdrawal", time.Now()); err == nil || !strings.Contains(err.Error(), "destination") {
		t.Fatalf("a sweep to it was built: %v", err)
	}
}
