package eth

import (
	"errors"
	"math/big"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>; the seeds added here are
// built from the test fixtures.

func FuzzDecodeIntent(f *testing.F) {
	f.Add(mustJSON(f, intentJSONMap(f)))
	m := intentJSONMap(f)
	m["asset"], m["token"], m["gas_limit"] = AssetERC20, tokenAddr(f), "65000"
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
		fee, _ := new(big.Int).SetString(sum.MaxFee, 10)
		if sum.Amount != in.Amount.String() || fee.Cmp(in.MaxFee) > 0 || sum.Source == sum.Destination {
			t.Fatalf("summary %+v breaks intent %+v", sum, in)
		}
		got, err := DecodeSummary(u.Raw(), in.From)
		if err != nil || got != sum {
			t.Fatalf("DecodeSummary of built tx = %+v, %v; want %+v", got, err, sum)
		}
		if err := MatchIntent(in, got); err != nil {
			t.Fatalf("MatchIntent: %v", err)
		}
	})
}

func FuzzDecodeSummary(f *testing.F) {
	for _, in := range []Intent{ethIntent(f), tokenIntent(f)} {
		u, err := Build(in)
		if err != nil {
			f.Fatal(err)
		}
		s, err := u.Attach([]Signature{sign(f, u, walletKey(f))})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(u.Raw())
		f.Add(s.Raw())
	}
	wallet := wallet(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		sum, err := DecodeSummary(raw, wallet)
		if err != nil {
			return
		}
		if sum.Chain != "ethereum" || sum.Amount == "0" || sum.Source == sum.Destination ||
			(sum.Asset == AssetERC20) != (sum.Token != "") || (sum.Asset != AssetETH && sum.Asset != AssetERC20) {
			t.Fatalf("DecodeSummary accepted %x as %+v", raw, sum)
		}
		again, err := DecodeSummary(raw, wallet)
		if err != nil || again != sum {
			t.Fatalf("DecodeSummary is not deterministic: %+v, %v", again, err)
		}
		// Verify agrees with the summary: a signed transaction verifies
		// against its own recovered sender, an unsigned one never does.
		err = Verify(raw, sum.Source)
		if err != nil && !errors.Is(err, ErrNotSigned) {
			t.Fatalf("Verify against the recovered sender %s: %v", sum.Source, err)
		}
	})
}
