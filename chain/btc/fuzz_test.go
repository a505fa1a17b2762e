package btc

import (
	"encoding/base64"
	"reflect"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>; the seeds added here are
// built from the test fixtures.

func FuzzDecodeIntent(f *testing.F) {
	f.Add(mustJSON(f, intentJSONMap(f)))
	m := intentJSONMap(f)
	delete(m, "fee_rate")
	m["fee"] = "2000"
	f.Add(mustJSON(f, m))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeIntent(data)
		if err != nil {
			return
		}
		u, err := Build(in)
		if err != nil {
			t.Fatalf("Build of a decoded intent: %v", err)
		}
		sum := u.Summary()
		if sum.Amount != in.Amount || sum.Fee > in.MaxFee || sum.Fee <= 0 || len(u.Sighashes()) != len(in.UTXOs) {
			t.Fatalf("summary %+v breaks intent %+v", sum, in)
		}
		got, err := DecodeSummary(u.Raw(), in.Network, u.Prevouts())
		if err != nil || !reflect.DeepEqual(got, sum) {
			t.Fatalf("DecodeSummary of built tx = %+v, %v; want %+v", got, err, sum)
		}
		if err := MatchIntent(in, got); err != nil {
			t.Fatalf("MatchIntent: %v", err)
		}
	})
}

func FuzzReadPSBT(f *testing.F) {
	u, err := Build(testIntent(f))
	if err != nil {
		f.Fatal(err)
	}
	s, err := u.Attach(signAll(f, u, walletKey))
	if err != nil {
		f.Fatal(err)
	}
	for _, w := range []func() ([]byte, error){u.PSBT, s.PSBT} {
		data, err := w()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add([]byte(base64.StdEncoding.EncodeToString(data)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPSBT(data, Testnet)
		if err != nil {
			return
		}
		got, err := DecodeSummary(p.Unsigned, Testnet, p.Prevouts)
		if err != nil || !reflect.DeepEqual(got, p.Summary) {
			t.Fatalf("DecodeSummary of the PSBT's tx = %+v, %v; want %+v", got, err, p.Summary)
		}
		if p.Signed != nil {
			if err := Verify(p.Signed, Testnet, p.Prevouts); err != nil {
				t.Fatalf("Verify of the extracted tx: %v", err)
			}
		}
	})
}

func FuzzDecodeSummary(f *testing.F) {
	u, err := Build(testIntent(f))
	if err != nil {
		f.Fatal(err)
	}
	s, err := u.Attach(signAll(f, u, walletKey))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(u.Raw())
	f.Add(s.Raw())
	prevouts := u.Prevouts()
	var total int64
	for _, p := range prevouts {
		total += p.Amount
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sum, err := DecodeSummary(raw, Testnet, prevouts)
		if err != nil {
			return
		}
		if sum.Amount+sum.Fee+sum.Change != total || sum.Fee <= 0 || !reflect.DeepEqual(sum.Inputs, u.Summary().Inputs) {
			t.Fatalf("summary %+v does not add up to %d sat from %v", sum, total, u.Summary().Inputs)
		}
		if Verify(raw, Testnet, prevouts) == nil && sum.TxID != s.TxID() {
			t.Fatalf("Verify accepted a transaction that was never signed: %x", raw)
		}
	})
}
