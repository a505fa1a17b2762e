package btc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
)

// testKey derives a deterministic secp256k1 key from a label. It stands in
// for the threshold wallet key.
func testKey(label string) *btcec.PrivateKey {
	seed := sha256.Sum256([]byte(label))
	priv, _ := btcec.PrivKeyFromBytes(seed[:])
	return priv
}

// walletKey is the key of the test wallet.
var walletKey = testKey("coffer/test/wallet")

func walletPub() []byte { return walletKey.PubKey().SerializeCompressed() }

func walletScript(t testing.TB) []byte {
	t.Helper()
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(walletPub()), &chaincfg.TestNet3Params)
	if err != nil {
		t.Fatal(err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return script
}

// otherAddr returns an address of the given kind that does not belong to the
// wallet, on the given chain parameters.
func otherAddr(t testing.TB, kind string, p *chaincfg.Params) string {
	t.Helper()
	pub := testKey("coffer/test/other").PubKey().SerializeCompressed()
	h20, h32 := btcutil.Hash160(pub), sha256.Sum256(pub)
	var (
		a   btcutil.Address
		err error
	)
	switch kind {
	case "p2wpkh":
		a, err = btcutil.NewAddressWitnessPubKeyHash(h20, p)
	case "p2pkh":
		a, err = btcutil.NewAddressPubKeyHash(h20, p)
	case "p2sh":
		a, err = btcutil.NewAddressScriptHashFromHash(h20, p)
	case "p2wsh":
		a, err = btcutil.NewAddressWitnessScriptHash(h32[:], p)
	case "p2tr":
		a, err = btcutil.NewAddressTaproot(h32[:], p)
	default:
		t.Fatalf("unknown address kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress()
}

// txid returns a deterministic transaction ID for test UTXO n.
func txid(n int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("coffer/test/utxo/%d", n)))
	return hex.EncodeToString(h[:])
}

// testIntent is a valid testnet intent: two UTXOs of 100 000 and 50 000 sat,
// 120 000 sat to a P2WPKH destination at 10 sat/vB.
func testIntent(t testing.TB) Intent {
	t.Helper()
	return Intent{
		Network:      Testnet,
		WalletPubKey: walletPub(),
		Destination:  otherAddr(t, "p2wpkh", &chaincfg.TestNet3Params),
		Amount:       120_000,
		FeeRate:      10_000,
		MaxFee:       10_000,
		UTXOs: []UTXO{
			{TxID: txid(1), Vout: 0, Amount: 100_000, PkScript: walletScript(t)},
			{TxID: txid(2), Vout: 3, Amount: 50_000, PkScript: walletScript(t)},
		},
	}
}

// intentJSONMap is testIntent in its JSON form, as a map tests can edit.
func intentJSONMap(t testing.TB) map[string]any {
	t.Helper()
	in := testIntent(t)
	var utxos []any
	for _, u := range in.UTXOs {
		utxos = append(utxos, map[string]any{
			"outpoint":  u.OutPoint(),
			"amount":    fmt.Sprint(u.Amount),
			"pk_script": hex.EncodeToString(u.PkScript),
		})
	}
	return map[string]any{
		"network":       in.Network,
		"wallet_pubkey": hex.EncodeToString(in.WalletPubKey),
		"destination":   in.Destination,
		"amount":        "120000",
		"fee_rate":      "10",
		"max_fee":       "10000",
		"utxos":         utxos,
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signAll signs every sighash of u with key, as a threshold session would.
func signAll(t testing.TB, u *Unsigned, key *btcec.PrivateKey) []Signature {
	t.Helper()
	var sigs []Signature
	for _, h := range u.Sighashes() {
		compact := ecdsa.SignCompact(key, h[:], true)
		sig, err := SignatureFromCompact(compact[1:])
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	return sigs
}

// highS returns the same signature with s replaced by n − s.
func highS(s Signature) Signature {
	return Signature{R: new(big.Int).Set(s.R), S: new(big.Int).Sub(btcec.S256().N, s.S)}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equalUTXOs(a, b []UTXO) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].TxID != b[i].TxID || a[i].Vout != b[i].Vout || a[i].Amount != b[i].Amount || !bytes.Equal(a[i].PkScript, b[i].PkScript) {
			return false
		}
	}
	return true
}

func errorIs(err, target error) bool { return err != nil && errors.Is(err, target) }
