package policy_test

import (
	"encoding/json"
	"testing"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// Fuzz targets for every decoder of untrusted bytes: they must never panic,
// and whatever they accept must evaluate without panicking.

func FuzzLoad(f *testing.F) {
	f.Add(readExample(f))
	f.Add([]byte("version: 1\n---\nversion: 2\n"))
	f.Add([]byte("rules: [{id: a, action: deny}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := policy.Load(b)
		if err != nil {
			return
		}
		if q, err := policy.New(p.Document()); err != nil || q.Hash() != p.Hash() {
			t.Fatalf("reloading an accepted policy: %v", err)
		}
		policy.Evaluate(p, policy.State{}, pt.BTC("f", "btc-hot", pt.BTCKraken, 1, t0), t0)
	})
}

func FuzzDecodeRequestJSON(f *testing.F) {
	b, _ := json.Marshal(pt.ETH("r", "eth-hot", pt.ETHCoinbase, "USDC", policy.MustAmount("5"), t0))
	f.Add(b)
	f.Add([]byte(`{"amount":"1e9"}`))
	p := pt.New().Policy(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := policy.DecodeRequestJSON(b)
		if err != nil {
			return
		}
		policy.Evaluate(p, policy.State{}, req, t0)
	})
}

func FuzzDecodeSnapshotJSON(f *testing.F) {
	f.Add([]byte(`{"frozen":false,"spends":[{"at":"2025-03-01T00:00:00Z","source":"btc-hot","to":"x","rule":"r","asset":"BTC","amount":"5"}]}`))
	p := pt.New().Policy(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := policy.DecodeSnapshotJSON(b)
		if err != nil {
			return
		}
		st, err := policy.NewState(snap)
		if err != nil {
			return
		}
		policy.Evaluate(p, st, pt.BTC("f", "btc-hot", pt.BTCKraken, 1, t0), t0)
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "1", "007", "-1", "1e9", "99999999999999999999999999999999999999999999999999999999999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := policy.ParseAmount(s)
		if err == nil && a.String() != s {
			t.Fatalf("ParseAmount(%q) accepted a non-canonical form: %s", s, a)
		}
	})
}
