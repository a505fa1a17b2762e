package eth

import (
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		intent func(t *testing.T) Intent
		highS  bool
	}{
		{name: "ok/ether", intent: func(t *testing.T) Intent { return ethIntent(t) }},
		{name: "ok/ether, high-S signature", intent: func(t *testing.T) Intent { return ethIntent(t) }, highS: true},
		{name: "ok/erc20", intent: func(t *testing.T) Intent { return tokenIntent(t) }},
		{name: "ok/erc20, high-S signature", intent: func(t *testing.T) Intent { return tokenIntent(t) }, highS: true},
		{name: "ok/dev chain, nonce 0", intent: func(t *testing.T) Intent {
			in, nonce := ethIntent(t), uint64(0)
			in.Network, in.ChainID, in.Nonce = Dev, 1337, &nonce
			return in
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.intent(t)
			u, err := Build(in)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if len(u.Sighashes()) != 1 || u.Sighashes()[0] != u.SigningHash() {
				t.Fatalf("sighashes %x, signing hash %x", u.Sighashes(), u.SigningHash())
			}
			// The signing hash is the library's, for this chain ID.
			if want := types.LatestSignerForChainID(new(big.Int).SetUint64(in.ChainID)).Hash(u.tx); want != u.SigningHash() {
				t.Fatalf("signing hash %x, library says %x", u.SigningHash(), want)
			}
			sig := sign(t, u, walletKey(t))
			if tc.highS {
				sig = flipS(sig)
			}
			s, err := u.Attach([]Signature{sig})
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if err := Verify(s.Raw(), in.From); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := DecodeSummary(s.Raw(), "")
			if err != nil {
				t.Fatalf("DecodeSummary: %v", err)
			}
			if got != u.Summary() || got != s.Summary() {
				t.Fatalf("signed summary %+v, unsigned %+v", got, u.Summary())
			}
			unsigned, err := DecodeSummary(u.Raw(), in.From)
			if err != nil || unsigned != got {
				t.Fatalf("summary of the unsigned bytes %+v, %v; want %+v", unsigned, err, got)
			}
			if err := MatchIntent(in, got); err != nil {
				t.Fatalf("MatchIntent: %v", err)
			}
			checkSummaryAgainstIntent(t, in, got)
			var tx types.Transaction
			if err := tx.UnmarshalBinary(s.Raw()); err != nil || tx.Hash().Hex() != s.Hash() {
				t.Fatalf("hash %s, decoded %s (%v)", s.Hash(), tx.Hash().Hex(), err)
			}
		})
	}
}

// checkSummaryAgainstIntent compares a summary with the intent field by field,
// independently of MatchIntent.
func checkSummaryAgainstIntent(t *testing.T, in Intent, got Summary) {
	t.Helper()
	token := ""
	if in.Asset == AssetERC20 {
		token = common.HexToAddress(in.Token).Hex()
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(in.GasLimit), in.MaxFeePerGas)
	if got.Chain != "ethereum" || got.Network != in.Network || got.ChainID != in.ChainID ||
		got.Source != in.From || got.Destination != in.To || got.Asset != in.Asset || got.Token != token ||
		got.Amount != in.Amount.String() || got.Nonce != *in.Nonce || got.GasLimit != in.GasLimit ||
		got.MaxFeePerGas != in.MaxFeePerGas.String() || got.MaxPriorityFeePerGas != in.MaxPriorityFeePerGas.String() ||
		got.MaxFee != fee.String() {
		t.Fatalf("summary %+v does not match intent %+v", got, in)
	}
}

func TestAttach(t *testing.T) {
	u, err := Build(ethIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, u, walletKey(t))
	n := crypto.S256().Params().N
	tests := []struct {
		name string
		sigs []Signature
		want error
	}{
		{name: "ok/valid", sigs: []Signature{good}},
		{name: "fail/no signature", sigs: nil, want: ErrSignatureCount},
		{name: "fail/two signatures", sigs: []Signature{good, good}, want: ErrSignatureCount},
		{name: "fail/wrong recovery id", sigs: []Signature{{R: good.R, S: good.S, V: good.V ^ 1}}, want: ErrSenderMismatch},
		{name: "fail/high S without flipping V", sigs: []Signature{{R: good.R, S: new(big.Int).Sub(n, good.S), V: good.V}}, want: ErrSenderMismatch},
		{name: "fail/recovery id 27", sigs: []Signature{{R: good.R, S: good.S, V: 27}}, want: ErrInvalidSignature},
		{name: "fail/zero r", sigs: []Signature{{R: big.NewInt(0), S: good.S}}, want: ErrInvalidSignature},
		{name: "fail/s equal to n", sigs: []Signature{{R: good.R, S: new(big.Int).Set(n)}}, want: ErrInvalidSignature},
		{name: "fail/nil r", sigs: []Signature{{S: good.S}}, want: ErrInvalidSignature},
		{name: "fail/signed by another key", sigs: []Signature{sign(t, u, testKey(t, "coffer/test/eth/other"))}, want: ErrSenderMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := u.Attach(tc.sigs)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Attach: %v", err)
				}
				if err := Verify(s.Raw(), u.From()); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignatureFromBytes(t *testing.T) {
	if _, err := SignatureFromBytes(make([]byte, 64)); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("64 bytes: err = %v, want %v", err, ErrInvalidSignature)
	}
	b := make([]byte, 65)
	b[31], b[63], b[64] = 3, 5, 1
	s, err := SignatureFromBytes(b)
	if err != nil || s.R.Int64() != 3 || s.S.Int64() != 5 || s.V != 1 {
		t.Fatalf("SignatureFromBytes = %+v, %v; want r=3 s=5 v=1", s, err)
	}
}

func TestVerify(t *testing.T) {
	u, err := Build(ethIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := u.Attach([]Signature{sign(t, u, walletKey(t))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		raw    []byte
		wallet string
		want   error
	}{
		{name: "ok/signed by the wallet", raw: s.Raw(), wallet: u.From()},
		{name: "fail/unsigned", raw: u.Raw(), wallet: u.From(), want: ErrNotSigned},
		{name: "fail/another wallet", raw: s.Raw(), wallet: recipient(t), want: ErrSenderMismatch},
		{name: "fail/no wallet", raw: s.Raw(), want: ErrMissingField},
		{name: "fail/empty", raw: nil, wallet: u.From(), want: ErrUnsupportedTxType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.raw, tc.wallet)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
