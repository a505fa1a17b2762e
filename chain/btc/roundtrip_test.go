package btc

import (
	"bytes"
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(in *Intent)
		check func(t *testing.T, u *Unsigned, s Summary) // extra expectations, may be nil
	}{
		{name: "ok/fee rate, two inputs, change", edit: func(*Intent) {}, check: func(t *testing.T, u *Unsigned, s Summary) {
			// BIP-141 by hand: base 4+1+2×41+1+2×31+4 = 154 bytes; witness
			// 2 (marker, flag) + 2×(1+1+72+1+33) = 218; weight 154×4+218 = 834.
			if u.EstimatedVSize() != 209 || s.Fee != 2_090 || s.Change != 150_000-120_000-2_090 {
				t.Fatalf("vsize %d, fee %d, change %d; want 209, 2090, 27910", u.EstimatedVSize(), s.Fee, s.Change)
			}
		}},
		{name: "ok/fee rate, dust change left to the fee", edit: func(in *Intent) { in.Amount = 147_700 }, check: func(t *testing.T, u *Unsigned, s Summary) {
			if s.Change != 0 || s.Fee != 2_300 {
				t.Fatalf("change %d, fee %d; want 0 and 2300", s.Change, s.Fee)
			}
		}},
		{name: "ok/absolute fee, change", edit: func(in *Intent) { in.FeeRate, in.Fee = 0, 1_500 }},
		{name: "ok/absolute fee, no change", edit: func(in *Intent) { in.FeeRate, in.Fee, in.Amount = 0, 2_000, 148_000 }},
		{name: "ok/p2tr destination on mainnet", edit: func(in *Intent) {
			in.Network, in.Destination = Mainnet, otherAddr(t, "p2tr", &chaincfg.MainNetParams)
		}},
		{name: "ok/p2pkh destination on regtest", edit: func(in *Intent) {
			in.Network, in.Destination = Regtest, otherAddr(t, "p2pkh", &chaincfg.RegressionNetParams)
		}},
		{name: "ok/twelve inputs", edit: func(in *Intent) {
			in.UTXOs = nil
			for i := range 12 {
				in.UTXOs = append(in.UTXOs, UTXO{TxID: txid(100 + i), Vout: uint32(i), Amount: 20_000, PkScript: walletScript(t)})
			}
			in.Amount, in.MaxFee = 200_000, 20_000
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := testIntent(t)
			tc.edit(&in)
			u, err := Build(in)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if len(u.Sighashes()) != len(in.UTXOs) {
				t.Fatalf("%d sighashes for %d inputs", len(u.Sighashes()), len(in.UTXOs))
			}
			sigs := signAll(t, u, walletKey)
			// A threshold session may return s in the high half: every
			// other signature is flipped, Attach must normalize it.
			for i := 0; i < len(sigs); i += 2 {
				sigs[i] = highS(sigs[i])
			}
			s, err := u.Attach(sigs)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if err := Verify(s.Raw(), in.Network, u.Prevouts()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if s.TxID() != u.TxID() {
				t.Fatalf("signed txid %s, unsigned %s", s.TxID(), u.TxID())
			}
			got, err := DecodeSummary(s.Raw(), in.Network, u.Prevouts())
			if err != nil {
				t.Fatalf("DecodeSummary: %v", err)
			}
			if !reflect.DeepEqual(got, u.Summary()) || !reflect.DeepEqual(got, s.Summary()) {
				t.Fatalf("signed summary %+v, unsigned %+v", got, u.Summary())
			}
			if err := MatchIntent(in, got); err != nil {
				t.Fatalf("MatchIntent: %v", err)
			}
			checkSummaryAgainstIntent(t, in, got, s)
			if tc.check != nil {
				tc.check(t, u, got)
			}
		})
	}
}

// checkSummaryAgainstIntent compares a summary with the intent field by field,
// independently of MatchIntent.
func checkSummaryAgainstIntent(t *testing.T, in Intent, got Summary, s *Signed) {
	t.Helper()
	source, err := P2WPKHAddress(in.WalletPubKey, in.Network)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	var inputs []string
	for _, u := range in.UTXOs {
		total += u.Amount
		inputs = append(inputs, u.OutPoint())
	}
	if got.Chain != "bitcoin" || got.Network != in.Network || got.Asset != "BTC" || got.Source != source ||
		got.Destination != in.Destination || got.Amount != in.Amount || !reflect.DeepEqual(got.Inputs, inputs) {
		t.Fatalf("summary %+v does not match intent %+v", got, in)
	}
	if got.Amount+got.Fee+got.Change != total {
		t.Fatalf("amount %d + fee %d + change %d != inputs %d", got.Amount, got.Fee, got.Change, total)
	}
	if got.Fee > in.MaxFee {
		t.Fatalf("fee %d above cap %d", got.Fee, in.MaxFee)
	}
	if in.Fee > 0 && got.Fee != in.Fee {
		t.Fatalf("fee %d, intent says %d", got.Fee, in.Fee)
	}
	if in.FeeRate > 0 && got.Fee*1000 < in.FeeRate*s.VSize() {
		t.Fatalf("fee %d sat for %d vB is below %d sat/kvB", got.Fee, s.VSize(), in.FeeRate)
	}
}

func TestAttachNormalizesHighS(t *testing.T) {
	u, err := Build(testIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	low := signAll(t, u, walletKey)
	var high []Signature
	for _, s := range low {
		high = append(high, highS(s))
	}
	a, err := u.Attach(low)
	if err != nil {
		t.Fatal(err)
	}
	b, err := u.Attach(high)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Raw(), b.Raw()) {
		t.Fatal("high-S signatures gave a different transaction than their low-S form")
	}
	if u.EstimatedVSize() < a.VSize() {
		t.Fatalf("estimated vsize %d below actual %d", u.EstimatedVSize(), a.VSize())
	}
}

func TestAttach(t *testing.T) {
	u, err := Build(testIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	good := signAll(t, u, walletKey)
	n := btcec.S256().N
	tests := []struct {
		name  string
		sigs  func() []Signature
		want  error
		input int // index named by the error, -1 if none
	}{
		{name: "ok/compact signatures", sigs: func() []Signature { return good }, input: -1},
		{name: "fail/too few signatures", sigs: func() []Signature { return good[:1] }, want: ErrSignatureCount, input: -1},
		{name: "fail/too many signatures", sigs: func() []Signature { return append(append([]Signature{}, good...), good[0]) }, want: ErrSignatureCount, input: -1},
		{name: "fail/signatures swapped between inputs", sigs: func() []Signature { return []Signature{good[1], good[0]} }, want: ErrInvalidSignature, input: 0},
		{name: "fail/signature by another key", sigs: func() []Signature {
			return []Signature{good[0], signAll(t, u, testKey("coffer/test/other"))[1]}
		}, want: ErrInvalidSignature, input: 1},
		{name: "fail/zero r", sigs: func() []Signature { return []Signature{{R: big.NewInt(0), S: good[0].S}, good[1]} }, want: ErrInvalidSignature, input: 0},
		{name: "fail/s equal to the group order", sigs: func() []Signature { return []Signature{good[0], {R: good[1].R, S: new(big.Int).Set(n)}} }, want: ErrInvalidSignature, input: 1},
		{name: "fail/nil s", sigs: func() []Signature { return []Signature{{R: good[0].R}, good[1]} }, want: ErrInvalidSignature, input: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := u.Attach(tc.sigs())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Attach: %v", err)
				}
				if err := Verify(s.Raw(), Testnet, u.Prevouts()); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var ie *InputError
			if tc.input >= 0 && (!errors.As(err, &ie) || ie.Index != tc.input) {
				t.Fatalf("err = %v, want it to name input %d", err, tc.input)
			}
		})
	}
}

func TestSignatureFromCompact(t *testing.T) {
	if _, err := SignatureFromCompact(make([]byte, 63)); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("63 bytes: err = %v, want %v", err, ErrInvalidSignature)
	}
	b := make([]byte, 64)
	b[31], b[63] = 7, 9
	s, err := SignatureFromCompact(b)
	if err != nil || s.R.Int64() != 7 || s.S.Int64() != 9 {
		t.Fatalf("SignatureFromCompact = %v, %v; want r=7 s=9", s, err)
	}
}

func TestVerifyUnsigned(t *testing.T) {
	u, err := Build(testIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(u.Raw(), Testnet, u.Prevouts()); !errors.Is(err, ErrNotSigned) {
		t.Fatalf("err = %v, want %v", err, ErrNotSigned)
	}
}
