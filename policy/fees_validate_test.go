package policy_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

func TestValidateFees(t *testing.T) {
	budget := func(wallet string, window policy.Duration, max string) policy.FeeBudget {
		return policy.FeeBudget{Wallet: wallet, Window: window, MaxFee: policy.MustAmount(max)}
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, d *policy.Document)
		want   error // nil: valid
	}{
		{"ok/every-fee-bound", func(t *testing.T, d *policy.Document) {
			btc, eth := feeCap(t, d, policy.ChainBTC), feeCap(t, d, policy.ChainETH)
			btc.MaxFeeBps, btc.MaxFeeRate = u64(100), u64(300)
			eth.MaxFeeBps, eth.MaxPriorityFeePerGas = u64(10000), amt("0")
			d.Invariants.FeeBudgets = []policy.FeeBudget{budget("btc-hot", hours(24), "2000000"), budget("btc-hot", hours(1), "500000"),
				budget("eth-hot", hours(24), "1000000000000000000")}
			rule(t, d, "sweep-btc").MaxFeeBps = u64(1)
		}, nil},
		{"fail/fee-bps-zero", func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeBps = u64(0) }, policy.ErrInvalid},
		{"fail/fee-bps-above-10000", func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainETH).MaxFeeBps = u64(10001) }, policy.ErrInvalid},
		{"fail/fee-rate-zero", func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeRate = u64(0) }, policy.ErrInvalid},
		{"fail/fee-rate-on-eth", func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainETH).MaxFeeRate = u64(300) }, policy.ErrInvalid},
		{"fail/priority-fee-cap-on-btc", func(t *testing.T, d *policy.Document) {
			feeCap(t, d, policy.ChainBTC).MaxPriorityFeePerGas = amt("1")
		}, policy.ErrInvalid},
		{"fail/fee-budget-unknown-wallet", func(t *testing.T, d *policy.Document) {
			d.Invariants.FeeBudgets = []policy.FeeBudget{budget("btc-warm", hours(24), "1")}
		}, policy.ErrUnknownWallet},
		{"fail/fee-budget-without-window", func(t *testing.T, d *policy.Document) {
			d.Invariants.FeeBudgets = []policy.FeeBudget{budget("btc-hot", 0, "1")}
		}, policy.ErrMissing},
		{"fail/fee-budget-zero", func(t *testing.T, d *policy.Document) {
			d.Invariants.FeeBudgets = []policy.FeeBudget{budget("btc-hot", hours(24), "0")}
		}, policy.ErrInvalid},
		{"fail/fee-budget-twice-for-one-wallet-and-window", func(t *testing.T, d *policy.Document) {
			d.Invariants.FeeBudgets = []policy.FeeBudget{budget("btc-hot", hours(24), "5"), budget("btc-hot", policy.Duration(24*time.Hour), "7")}
		}, policy.ErrDuplicateID},
		{"fail/rule-fee-bps-zero", func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").MaxFeeBps = u64(0) }, policy.ErrInvalid},
		{"fail/rule-fee-bps-above-10000", func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").MaxFeeBps = u64(10001) }, policy.ErrInvalid},
		{"fail/rule-fee-bps-on-token-rule", func(t *testing.T, d *policy.Document) { rule(t, d, "withdraw-usdc").MaxFeeBps = u64(100) }, policy.ErrInvalid},
		{"fail/rule-fee-bps-without-assets", func(t *testing.T, d *policy.Document) { rule(t, d, "refill").MaxFeeBps = u64(100) }, policy.ErrInvalid},
		{"fail/rule-fee-bps-on-deny-rule", func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "cold-other")
			r.Match.Assets, r.MaxFeeBps = []string{"BTC"}, u64(100)
		}, policy.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := pt.New()
			tc.mutate(t, &f.Doc)
			err := f.Doc.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *policy.FieldError
			if !errors.Is(err, tc.want) || !errors.As(err, &fe) || fe.Path == "" {
				t.Fatalf("Validate = %v, want %v in a *FieldError with a path", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestDecodeFees reads the fee bounds from YAML strictly.
func TestDecodeFees(t *testing.T) {
	example := string(readExample(t))
	for _, tc := range []struct {
		name, old, new string
		ok             bool
	}{
		{"fail/negative-bps", "max_fee_bps: 100", "max_fee_bps: -1", false},
		{"fail/bps-as-fraction", "max_fee_bps: 100", "max_fee_bps: 1.5", false},
		{"fail/unknown-fee-cap-key", "max_fee_rate: 300", "max_fee_rat: 300", false},
		{"fail/unknown-budget-key", "fee_budgets:\n    - wallet: btc-hot", "fee_budgets:\n    - walet: btc-hot", false},
		{"fail/budget-window-not-a-duration", "window: 24h\n      max_fee: \"2000000\"", "window: 24\n      max_fee: \"2000000\"", false},
		{"fail/bps-quoted", "max_fee_bps: 100", `max_fee_bps: "100"`, false},
		{"fail/rate-in-exponent-form", "max_fee_rate: 300", "max_fee_rate: 3e2", false},
		{"fail/rate-in-hex", "max_fee_rate: 300", "max_fee_rate: 0x12c", false},
		{"fail/rate-with-leading-zero", "max_fee_rate: 300", "max_fee_rate: 0300", false},
		{"fail/rate-above-64-bits", "max_fee_rate: 300", "max_fee_rate: 18446744073709551616", false},
		{"ok/example", "max_fee_bps: 100", "max_fee_bps: 100", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(example, tc.old) {
				t.Fatalf("the example lacks %q", tc.old)
			}
			_, err := policy.Load([]byte(strings.Replace(example, tc.old, tc.new, 1)))
			if (err == nil) != tc.ok {
				t.Fatalf("Load = %v", err)
			}
		})
	}
}

// TestFeeBoundsInHash: the fee bounds are content (any change changes the
// hash), budgets are a set (their order does not), and a document without
// them encodes as before they existed.
func TestFeeBoundsInHash(t *testing.T) {
	f := pt.New()
	base := f.Policy(t)
	for _, key := range []string{"fee_budgets", "max_fee_bps", "max_fee_rate", "max_priority_fee_per_gas"} {
		if bytes.Contains(base.Canonical(), []byte(key)) {
			t.Errorf("a document without %s encodes it: older hashes would change", key)
		}
	}
	with := func(change func(d *policy.Document)) *policy.Policy {
		d := base.Document()
		change(&d)
		return mustPolicy(t, d)
	}
	a := policy.FeeBudget{Wallet: "btc-hot", Window: hours(24), MaxFee: policy.MustAmount("2000000")}
	b := policy.FeeBudget{Wallet: "eth-hot", Window: hours(1), MaxFee: policy.MustAmount("7")}
	ab := with(func(d *policy.Document) { d.Invariants.FeeBudgets = []policy.FeeBudget{a, b} })
	ba := with(func(d *policy.Document) { d.Invariants.FeeBudgets = []policy.FeeBudget{b, a} })
	if ab.Hash() != ba.Hash() {
		t.Error("the order of fee budgets changes the hash")
	}
	seen := map[policy.Hash]string{base.Hash(): "base", ab.Hash(): "budgets"}
	for name, change := range map[string]func(d *policy.Document){
		"budget max": func(d *policy.Document) {
			d.Invariants.FeeBudgets = []policy.FeeBudget{a, {Wallet: "eth-hot", Window: hours(1), MaxFee: policy.MustAmount("8")}}
		},
		"bps":      func(d *policy.Document) { d.Invariants.FeeCaps[0].MaxFeeBps = u64(100) },
		"rate":     func(d *policy.Document) { d.Invariants.FeeCaps[0].MaxFeeRate = u64(300) },
		"priority": func(d *policy.Document) { d.Invariants.FeeCaps[1].MaxPriorityFeePerGas = amt("5000000000") },
		"rule bps": func(d *policy.Document) { d.Rules[0].MaxFeeBps = u64(100) },
	} {
		h := with(change).Hash()
		if other, dup := seen[h]; dup {
			t.Errorf("%s hashes like %s", name, other)
		}
		seen[h] = name
	}
	// The policy keeps its own copy: changing a returned document's
	// pointers changes nothing.
	p := with(func(d *policy.Document) { d.Invariants.FeeCaps[0].MaxFeeRate = u64(300) })
	d := p.Document()
	*d.Invariants.FeeCaps[0].MaxFeeRate = 1
	if *p.Document().Invariants.FeeCaps[0].MaxFeeRate != 300 {
		t.Error("Document shares the fee rate with the policy")
	}
}

func TestLongestWindow(t *testing.T) {
	f := pt.New()
	if got := f.Policy(t).LongestWindow(); got != 24*time.Hour {
		t.Fatalf("fixture: %s, want 24h", got)
	}
	f.Doc.Invariants.FeeBudgets = []policy.FeeBudget{{Wallet: "btc-hot", Window: hours(72), MaxFee: policy.MustAmount("1")}}
	if got := f.Policy(t).LongestWindow(); got != 72*time.Hour {
		t.Fatalf("with a 72h fee budget: %s, want 72h", got)
	}
}
