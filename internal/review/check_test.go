package review

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
)

// The fixtures play the node: they build the transaction from the intent
// with chain/* and the digest with RequestDigest, as the gate does, and
// return what the node's Get answers.

func key(label string) *btcec.PrivateKey {
	seed := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(seed[:])
	return k
}

func btcAddr(t *testing.T, label string) (string, []byte) {
	t.Helper()
	a, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(key(label).PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress(), script
}

func txid(n int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "review/utxo/%d", n))
	return hex.EncodeToString(h[:])
}

const policyHash = "9f2c0d6e4b1a3c5e7f9a1b3d5c7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e"

// nodeView is what an honest node returns for in.
func nodeView(t *testing.T, in *transferpb.Intent, r *transferpb.Review, unsigned []byte, sighashes [][32]byte) *transferpb.Transfer {
	t.Helper()
	canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	r.Intent, r.UnsignedTx = canon, unsigned
	for _, s := range sighashes {
		r.Sighashes = append(r.Sighashes, s[:])
	}
	expires := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	d := RequestDigest(in.RequestId, in.SourceWallet, canon, unsigned, sighashes, policyHash, expires)
	return &transferpb.Transfer{RequestId: in.RequestId, State: "pending_approval", Digest: d[:], PolicyHash: policyHash,
		ExpiresAtUnix: expires.Unix(), Review: r}
}

func btcTransfer(t *testing.T) *transferpb.Transfer {
	t.Helper()
	_, script := btcAddr(t, "wallet")
	dest, _ := btcAddr(t, "cold")
	in := &transferpb.Intent{RequestId: "sweep-1", SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "120000",
		Btc: &transferpb.BTC{FeeRate: 10_000, MaxFee: 50_000, Utxos: []*transferpb.UTXO{
			{Txid: txid(1), Vout: 0, Amount: 100_000, PkScript: script}, {Txid: txid(2), Vout: 3, Amount: 50_000, PkScript: script}}}}
	pub := key("wallet").PubKey().SerializeCompressed()
	bi := btc.Intent{Network: btc.Regtest, WalletPubKey: pub, Destination: dest, Amount: 120_000, FeeRate: 10_000, MaxFee: 50_000}
	for _, u := range in.Btc.Utxos {
		bi.UTXOs = append(bi.UTXOs, btc.UTXO{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: u.PkScript})
	}
	u, err := btc.Build(bi)
	if err != nil {
		t.Fatal(err)
	}
	return nodeView(t, in, &transferpb.Review{SourcePubkey: pub, Network: btc.Regtest, DestinationAddress: dest}, u.Raw(), u.Sighashes())
}

func ethTransfer(t *testing.T, token string) *transferpb.Transfer {
	t.Helper()
	pub := key("eth-wallet").PubKey().SerializeUncompressed()
	from, err := eth.AddressFromPubKeyBytes(pub)
	if err != nil {
		t.Fatal(err)
	}
	to := "0x4444444444444444444444444444444444444444"
	in := &transferpb.Intent{RequestId: "withdraw-7", SourceWallet: "eth-hot", Destination: to, Asset: "ETH", Amount: "250000000000000000",
		Eth: &transferpb.ETH{Nonce: 7, GasLimit: 21_000, MaxFeePerGas: "30000000000", MaxPriorityFeePerGas: "2000000000", MaxFee: "1000000000000000"}}
	kind := eth.AssetETH
	if token != "" {
		in.Asset, in.Amount, in.Eth.GasLimit, in.Eth.MaxFee, kind = "USDC", "1000000", 65_000, "2000000000000000", eth.AssetERC20
	}
	amount, _ := new(big.Int).SetString(in.Amount, 10)
	maxFee, _ := new(big.Int).SetString(in.Eth.MaxFee, 10)
	nonce := in.Eth.Nonce
	u, err := eth.Build(eth.Intent{Network: eth.NetworkName(1), ChainID: 1, From: from, To: to, Asset: kind, Token: token, Amount: amount,
		Nonce: &nonce, GasLimit: in.Eth.GasLimit, MaxFeePerGas: big.NewInt(30_000_000_000), MaxPriorityFeePerGas: big.NewInt(2_000_000_000), MaxFee: maxFee})
	if err != nil {
		t.Fatal(err)
	}
	return nodeView(t, in, &transferpb.Review{SourcePubkey: pub, ChainId: 1, DestinationAddress: to, Token: token}, u.Raw(), u.Sighashes())
}

func TestCheck(t *testing.T) {
	const usdc = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
	for name, mk := range map[string]func(*testing.T) *transferpb.Transfer{
		"btc":   btcTransfer,
		"eth":   func(t *testing.T) *transferpb.Transfer { return ethTransfer(t, "") },
		"erc20": func(t *testing.T) *transferpb.Transfer { return ethTransfer(t, usdc) },
	} {
		t.Run(name, func(t *testing.T) {
			tr := mk(t)
			c, err := Check(tr)
			if err != nil {
				t.Fatalf("an honest node's request: %v", err)
			}
			if hex.EncodeToString(c.Digest[:]) != hex.EncodeToString(tr.Digest) {
				t.Fatal("digest not recomputed")
			}
			text := ""
			for _, l := range c.Lines() {
				text += l.Label + ": " + l.Value + "\n"
			}
			for _, want := range map[string][]string{
				"btc":   {"pays: 120000 sat to bcrt1", "(the intent names \"btc-cold\")", "input 1: " + txid(2) + ":3: 50000 sat", "fee: "},
				"eth":   {"pays: 250000000000000000 wei to 0x4444444444444444444444444444444444444444", "nonce: 7", "chain ID 1"},
				"erc20": {"pays: 1000000 token units of " + usdc, "gas 65000"},
			}[name] {
				if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
					t.Errorf("shown:\n%s\nwant %q", text, want)
				}
			}
		})
	}
}

// TestCheckRefuses: whatever a node changes in what it returns, the
// client refuses before anything is signed.
func TestCheckRefuses(t *testing.T) {
	other := ethTransfer(t, "")
	for _, tc := range []struct {
		name string
		mk   func(*testing.T) *transferpb.Transfer
		edit func(*transferpb.Transfer)
		want string
	}{
		{"no review", btcTransfer, func(tr *transferpb.Transfer) { tr.Review = nil }, "no intent"},
		{"another request's digest", btcTransfer, func(tr *transferpb.Transfer) { tr.Digest = other.Digest }, "shows digest"},
		{"another request altogether", btcTransfer, func(tr *transferpb.Transfer) { tr.Review = other.Review }, "is request"},
		{"other policy hash", btcTransfer, func(tr *transferpb.Transfer) { tr.PolicyHash = strings.Repeat("0", 64) }, "shows digest"},
		{"other expiry", btcTransfer, func(tr *transferpb.Transfer) { tr.ExpiresAtUnix++ }, "shows digest"},
		{"btc: other destination", btcTransfer, func(tr *transferpb.Transfer) {
			tr.Review.DestinationAddress, _ = btcAddr(t, "attacker")
		}, "destination"},
		{"btc: unsigned bytes changed", btcTransfer, func(tr *transferpb.Transfer) {
			tr.Review.UnsignedTx = append([]byte(nil), tr.Review.UnsignedTx...)
			tr.Review.UnsignedTx[len(tr.Review.UnsignedTx)-5] ^= 1
		}, ""},
		{"btc: a sighash changed", btcTransfer, func(tr *transferpb.Transfer) {
			tr.Review.Sighashes[1] = append([]byte(nil), tr.Review.Sighashes[1]...)
			tr.Review.Sighashes[1][0] ^= 1
		}, "sighash 1"},
		{"btc: a sighash dropped", btcTransfer, func(tr *transferpb.Transfer) { tr.Review.Sighashes = tr.Review.Sighashes[:1] }, "sighashes"},
		{"btc: other network", btcTransfer, func(tr *transferpb.Transfer) { tr.Review.Network = btc.Testnet }, ""},
		{"btc: an input amount understated", btcTransfer, func(tr *transferpb.Transfer) {
			var in transferpb.Intent
			_ = proto.Unmarshal(tr.Review.Intent, &in)
			in.Btc.Utxos[0].Amount = 90_000
			tr.Review.Intent, _ = proto.MarshalOptions{Deterministic: true}.Marshal(&in)
		}, ""},
		{"intent not canonical", btcTransfer, func(tr *transferpb.Transfer) {
			tr.Review.Intent = append(append([]byte(nil), tr.Review.Intent...), 0x0a, 0x00) // a second request_id field
		}, ""},
		{"eth: other chain", func(t *testing.T) *transferpb.Transfer { return ethTransfer(t, "") },
			func(tr *transferpb.Transfer) { tr.Review.ChainId = 5 }, ""},
		// (an unsigned eth transaction does not name its sender: the key
		// that signs is the intent's source wallet's, which the nodes asked
		// must agree on, see Agree)
		{"eth: other nonce in the intent", func(t *testing.T) *transferpb.Transfer { return ethTransfer(t, "") },
			func(tr *transferpb.Transfer) {
				var in transferpb.Intent
				_ = proto.Unmarshal(tr.Review.Intent, &in)
				in.Eth.Nonce = 8
				tr.Review.Intent, _ = proto.MarshalOptions{Deterministic: true}.Marshal(&in)
			}, "nonce"},
		{"eth: token dropped", func(t *testing.T) *transferpb.Transfer {
			return ethTransfer(t, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
		}, func(tr *transferpb.Transfer) { tr.Review.Token = "" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.mk(t)
			tc.edit(tr)
			_, err := Check(tr)
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want ErrMismatch with %q", err, tc.want)
			}
		})
	}
}

func TestAgree(t *testing.T) {
	a := btcTransfer(t)
	if err := Agree(a, btcTransfer(t)); err != nil {
		t.Fatalf("two honest nodes: %v", err)
	}
	for name, edit := range map[string]func(*transferpb.Transfer){
		"digest":  func(b *transferpb.Transfer) { b.Digest = ethTransfer(t, "").Digest },
		"policy":  func(b *transferpb.Transfer) { b.PolicyHash = "x" },
		"expiry":  func(b *transferpb.Transfer) { b.ExpiresAtUnix-- },
		"review":  func(b *transferpb.Transfer) { b.Review.DestinationAddress = "x" },
		"summary": func(b *transferpb.Transfer) { b.Summary = &transferpb.Summary{DestinationClass: "cold"} },
	} {
		b := btcTransfer(t)
		edit(b)
		if err := Agree(a, b); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s differs: Agree = %v", name, err)
		}
	}
}
