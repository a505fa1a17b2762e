package btc

import (
	"errors"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// TestTamperedTransaction changes a signed transaction's bytes after its
// summary was made: the summary must change and Verify must fail.
func TestTamperedTransaction(t *testing.T) {
	in := testIntent(t)
	u, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	s, err := u.Attach(signAll(t, u, walletKey))
	if err != nil {
		t.Fatal(err)
	}
	approved := s.Summary()
	tests := []struct {
		name  string
		edit  func(tx *wire.MsgTx)
		field string // the summary field that must change
	}{
		{name: "fail/destination", field: "destination", edit: func(tx *wire.MsgTx) {
			addr, _, err := parseAddress(otherAddr(t, "p2tr", &chaincfg.TestNet3Params), &chaincfg.TestNet3Params)
			if err != nil {
				t.Fatal(err)
			}
			tx.TxOut[0].PkScript, _ = txscript.PayToAddrScript(addr)
		}},
		{name: "fail/amount", field: "amount", edit: func(tx *wire.MsgTx) { tx.TxOut[0].Value += 1_000 }},
		{name: "fail/fee", field: "fee", edit: func(tx *wire.MsgTx) { tx.TxOut[1].Value -= 1_000 }},
		{name: "fail/change", field: "fee", edit: func(tx *wire.MsgTx) { tx.TxOut[1].Value += 1_000 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := decodeTx(s.Raw())
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(tx)
			raw := serialize(tx)
			got, err := DecodeSummary(raw, in.Network, u.Prevouts())
			if err != nil {
				t.Fatalf("DecodeSummary: %v", err)
			}
			if reflect.DeepEqual(got, approved) {
				t.Fatal("tampered transaction has the approved summary")
			}
			var me *MismatchError
			if err := MatchIntent(in, got); !errors.As(err, &me) || me.Field != tc.field {
				t.Fatalf("MatchIntent: %v, want a mismatch of %s", err, tc.field)
			}
			if err := Verify(raw, in.Network, u.Prevouts()); !errors.Is(err, ErrScriptFailed) {
				t.Fatalf("Verify: %v, want %v", err, ErrScriptFailed)
			}
		})
	}
}

// TestDecodeSummaryRejects covers transactions this package would not build.
func TestDecodeSummaryRejects(t *testing.T) {
	in := testIntent(t)
	u, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		edit     func(tx *wire.MsgTx)
		prevouts func(p []UTXO) []UTXO
		raw      func(raw []byte) []byte
		network  string
		want     error
	}{
		{name: "ok/unsigned"},
		{name: "fail/lock time", edit: func(tx *wire.MsgTx) { tx.LockTime = 900_000 }, want: ErrUnexpectedTx},
		{name: "fail/version", edit: func(tx *wire.MsgTx) { tx.Version = 1 }, want: ErrUnexpectedTx},
		{name: "fail/RBF sequence", edit: func(tx *wire.MsgTx) { tx.TxIn[1].Sequence = 0xfffffffd }, want: ErrUnexpectedTx},
		{name: "fail/third output", edit: func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(1_000, tx.TxOut[0].PkScript)) }, want: ErrUnexpectedTx},
		{name: "fail/change to someone else", edit: func(tx *wire.MsgTx) { tx.TxOut[1].PkScript = tx.TxOut[0].PkScript }, want: ErrUnexpectedTx},
		{name: "fail/payment to the wallet", edit: func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = tx.TxOut[1].PkScript }, want: ErrSelfTransfer},
		{name: "fail/OP_RETURN output", edit: func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = []byte{txscript.OP_RETURN, 0x01, 0x00} }, want: ErrUnsupportedAddress},
		{name: "fail/outputs above inputs", edit: func(tx *wire.MsgTx) { tx.TxOut[1].Value += 30_000 }, want: ErrInsufficientFunds},
		{name: "fail/dust change", edit: func(tx *wire.MsgTx) { tx.TxOut[1].Value = 100 }, want: ErrDustChange},
		{name: "fail/prevouts reordered", prevouts: func(p []UTXO) []UTXO { return []UTXO{p[1], p[0]} }, want: ErrPrevoutMismatch},
		{name: "fail/prevout missing", prevouts: func(p []UTXO) []UTXO { return p[:1] }, want: ErrPrevoutMismatch},
		{name: "fail/foreign prevout", prevouts: func(p []UTXO) []UTXO {
			p[1].PkScript = []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
			return p
		}, want: ErrForeignInput},
		{name: "fail/trailing byte", raw: func(raw []byte) []byte { return append(raw, 0) }, want: ErrMalformedTx},
		{name: "fail/truncated", raw: func(raw []byte) []byte { return raw[:len(raw)-1] }, want: ErrMalformedTx},
		{name: "fail/unknown network", network: "litecoin", want: ErrUnknownNetwork},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := decodeTx(u.Raw())
			if err != nil {
				t.Fatal(err)
			}
			if tc.edit != nil {
				tc.edit(tx)
			}
			raw, prevouts, network := serialize(tx), u.Prevouts(), Testnet
			if tc.raw != nil {
				raw = tc.raw(raw)
			}
			if tc.prevouts != nil {
				prevouts = tc.prevouts(prevouts)
			}
			if tc.network != "" {
				network = tc.network
			}
			got, err := DecodeSummary(raw, network, prevouts)
			if tc.want == nil {
				if err != nil || !reflect.DeepEqual(got, u.Summary()) {
					t.Fatalf("DecodeSummary = %+v, %v; want %+v", got, err, u.Summary())
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
