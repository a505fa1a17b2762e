package btc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

func testPSBTs(t *testing.T) (*Unsigned, *Signed, []byte, []byte) {
	t.Helper()
	u, err := Build(testIntent(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := u.Attach(signAll(t, u, walletKey))
	if err != nil {
		t.Fatal(err)
	}
	up, err := u.PSBT()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := s.PSBT()
	if err != nil {
		t.Fatal(err)
	}
	return u, s, up, sp
}

// editPacket parses a PSBT with the library, edits it and writes it back.
func editPacket(t *testing.T, data []byte, edit func(p *psbt.Packet)) []byte {
	t.Helper()
	p, err := psbt.NewFromRawBytes(bytes.NewReader(data), false)
	if err != nil {
		t.Fatal(err)
	}
	edit(p)
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPSBTRoundTrip(t *testing.T) {
	u, s, unsignedPSBT, signedPSBT := testPSBTs(t)
	tests := []struct {
		name   string
		data   []byte
		signed bool
	}{
		{name: "ok/unsigned binary", data: unsignedPSBT},
		{name: "ok/unsigned base64", data: []byte(base64.StdEncoding.EncodeToString(unsignedPSBT) + "\n")},
		{name: "ok/signed binary", data: signedPSBT, signed: true},
		{name: "ok/signed base64", data: []byte(base64.StdEncoding.EncodeToString(signedPSBT)), signed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadPSBT(tc.data, Testnet)
			if err != nil {
				t.Fatalf("ReadPSBT: %v", err)
			}
			if !bytes.Equal(got.Unsigned, u.Raw()) || !equalUTXOs(got.Prevouts, u.Prevouts()) || !reflect.DeepEqual(got.Summary, u.Summary()) {
				t.Fatalf("ReadPSBT = %+v, want the unsigned transaction %x", got, u.Raw())
			}
			wantSigned := []byte(nil)
			if tc.signed {
				wantSigned = s.Raw()
			}
			if !bytes.Equal(got.Signed, wantSigned) {
				t.Fatalf("Signed = %x, want %x", got.Signed, wantSigned)
			}
		})
	}
	t.Run("ok/library extracts our signed transaction", func(t *testing.T) {
		p, err := psbt.NewFromRawBytes(bytes.NewReader(signedPSBT), false)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := psbt.Extract(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(serialize(tx), s.Raw()) {
			t.Fatal("extracted transaction differs from Signed.Raw")
		}
	})
}

func TestReadPSBT(t *testing.T) {
	u, _, unsignedPSBT, signedPSBT := testPSBTs(t)
	tests := []struct {
		name string
		data func() []byte
		want error
	}{
		{name: "fail/garbage", data: func() []byte { return []byte("not a psbt") }, want: ErrMalformedPSBT},
		{name: "fail/empty", data: func() []byte { return nil }, want: ErrMalformedPSBT},
		{name: "fail/truncated", data: func() []byte { return unsignedPSBT[:len(unsignedPSBT)-3] }, want: ErrMalformedPSBT},
		{name: "fail/trailing byte", data: func() []byte { return append(bytes.Clone(unsignedPSBT), 0) }, want: ErrMalformedPSBT},
		{name: "fail/too large", data: func() []byte { return make([]byte, MaxPSBTSize+1) }, want: ErrPSBTTooLarge},
		{name: "fail/missing witness UTXO", data: func() []byte {
			return editPacket(t, unsignedPSBT, func(p *psbt.Packet) { p.Inputs[1].WitnessUtxo = nil })
		}, want: ErrMalformedPSBT},
		{name: "fail/non-witness UTXO of another transaction", data: func() []byte {
			return editPacket(t, unsignedPSBT, func(p *psbt.Packet) {
				prev := wire.NewMsgTx(2)
				prev.AddTxOut(wire.NewTxOut(100_000, walletScript(t)))
				p.Inputs[0].NonWitnessUtxo = prev
			})
		}, want: ErrMalformedPSBT},
		{name: "fail/sighash type NONE", data: func() []byte {
			return editPacket(t, unsignedPSBT, func(p *psbt.Packet) { p.Inputs[0].SighashType = txscript.SigHashNone })
		}, want: ErrUnexpectedTx},
		{name: "fail/foreign witness UTXO", data: func() []byte {
			return editPacket(t, unsignedPSBT, func(p *psbt.Packet) {
				p.Inputs[0].WitnessUtxo = wire.NewTxOut(100_000, append([]byte{0x00, 0x14}, make([]byte, 20)...))
			})
		}, want: ErrForeignInput},
		{name: "fail/finalized with a broken signature", data: func() []byte {
			return editPacket(t, signedPSBT, func(p *psbt.Packet) { p.Inputs[1].FinalScriptWitness[10] ^= 0x01 })
		}, want: ErrScriptFailed},
		{name: "fail/finalized with a misstated amount", data: func() []byte {
			return editPacket(t, signedPSBT, func(p *psbt.Packet) { p.Inputs[0].WitnessUtxo.Value += 5_000 })
		}, want: ErrScriptFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadPSBT(tc.data(), Testnet); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("ok/a misstated amount shows in the summary's fee", func(t *testing.T) {
		data := editPacket(t, unsignedPSBT, func(p *psbt.Packet) { p.Inputs[0].WitnessUtxo.Value += 5_000 })
		got, err := ReadPSBT(data, Testnet)
		if err != nil {
			t.Fatal(err)
		}
		if got.Summary.Fee != u.Summary().Fee+5_000 {
			t.Fatalf("fee %d, want %d", got.Summary.Fee, u.Summary().Fee+5_000)
		}
	})
}
