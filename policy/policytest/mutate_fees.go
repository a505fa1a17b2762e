package policytest

import (
	"math/rand/v2"
	"slices"

	"github.com/cofferhq/coffer/policy"
)

// feeCap returns a copy-on-write pointer to a random chain's fee cap of d.
func feeCap(r *rand.Rand, d *policy.Document, only policy.Chain) *policy.FeeCap {
	d.Invariants.FeeCaps = slices.Clone(d.Invariants.FeeCaps)
	var idx []int
	for i, c := range d.Invariants.FeeCaps {
		if only == "" || c.Chain == only {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	return &d.Invariants.FeeCaps[pick(r, idx)]
}

// lower returns a bound at most cur (a new one when cur is nil), at least 1.
func lower(r *rand.Rand, cur *policy.Uint, fresh uint64) *policy.Uint {
	if cur == nil || *cur == 0 {
		return uint64Ptr(fresh)
	}
	return uint64Ptr(1 + r.Uint64N(uint64(*cur)))
}

var feeMutations = []Mutation{
	{"add-or-lower-fee-bps", true, func(r *rand.Rand, d *policy.Document) bool {
		c := feeCap(r, d, "")
		c.MaxFeeBps = lower(r, c.MaxFeeBps, 1+uint64(r.IntN(10_000)))
		return true
	}},
	{"add-or-lower-fee-rate", true, func(r *rand.Rand, d *policy.Document) bool {
		c := feeCap(r, d, policy.ChainBTC)
		if c == nil {
			return false
		}
		c.MaxFeeRate = lower(r, c.MaxFeeRate, 1+uint64(r.IntN(60)))
		return true
	}},
	{"add-or-lower-priority-fee-cap", true, func(r *rand.Rand, d *policy.Document) bool {
		c := feeCap(r, d, policy.ChainETH)
		if c == nil {
			return false
		}
		v := uint64(r.IntN(3_000_000_000))
		if c.MaxPriorityFeePerGas != nil && c.MaxPriorityFeePerGas.Big().IsUint64() {
			v = min(v, c.MaxPriorityFeePerGas.Big().Uint64())
		}
		c.MaxPriorityFeePerGas = amountPtr(v)
		return true
	}},
	{"add-fee-budget", true, func(r *rand.Rand, d *policy.Document) bool {
		d.Invariants.FeeBudgets = append(slices.Clone(d.Invariants.FeeBudgets), policy.FeeBudget{Wallet: pick(r, wallets),
			Window: policy.Duration(pick(r, windows)), MaxFee: policy.AmountFromUint64(1 + uint64(r.IntN(20_000)))})
		return true // a second budget of one wallet and window is invalid: skipped
	}},
	{"tighten-fee-budget", true, func(r *rand.Rand, d *policy.Document) bool {
		if len(d.Invariants.FeeBudgets) == 0 {
			return false
		}
		d.Invariants.FeeBudgets = slices.Clone(d.Invariants.FeeBudgets)
		b := &d.Invariants.FeeBudgets[r.IntN(len(d.Invariants.FeeBudgets))]
		b.MaxFee = policy.AmountFromUint64(1 + b.MaxFee.Big().Uint64()/2)
		return true
	}},
	// Changes the classifier decides case by case.
	{"raise-fee-budget", false, func(r *rand.Rand, d *policy.Document) bool {
		if len(d.Invariants.FeeBudgets) == 0 {
			return false
		}
		d.Invariants.FeeBudgets = slices.Clone(d.Invariants.FeeBudgets)
		b := &d.Invariants.FeeBudgets[r.IntN(len(d.Invariants.FeeBudgets))]
		b.MaxFee = policy.AmountFromUint64(b.MaxFee.Big().Uint64() * 2)
		return true
	}},
	{"remove-fee-bounds", false, func(r *rand.Rand, d *policy.Document) bool {
		c := feeCap(r, d, "")
		c.MaxFeeBps, c.MaxFeeRate, c.MaxPriorityFeePerGas = nil, nil, nil
		return true
	}},
}
