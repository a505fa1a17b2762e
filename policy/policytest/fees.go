package policytest

import (
	"math/rand/v2"

	"github.com/cofferhq/coffer/policy"
)

// RandomFees adds random fee bounds to d: maybe a relative cap per chain,
// a btc fee rate ceiling, an eth priority fee cap, and up to three fee
// budgets. Values are drawn so that the generator's requests sometimes
// pass them and sometimes do not.
func RandomFees(r *rand.Rand, d *policy.Document) {
	caps := make([]policy.FeeCap, len(d.Invariants.FeeCaps))
	copy(caps, d.Invariants.FeeCaps)
	for i := range caps {
		c := &caps[i]
		if r.IntN(2) == 0 {
			c.MaxFeeBps = uint64Ptr(1 + uint64(r.IntN(10_000)))
		}
		switch c.Chain {
		case policy.ChainBTC:
			if r.IntN(2) == 0 {
				c.MaxFeeRate = uint64Ptr(1 + uint64(r.IntN(60)))
			}
		case policy.ChainETH:
			if r.IntN(2) == 0 {
				c.MaxPriorityFeePerGas = amountPtr(1_000_000_000 + uint64(r.IntN(3))*1_000_000_000)
			}
		}
	}
	d.Invariants.FeeCaps = caps
	d.Invariants.FeeBudgets = nil
	seen := map[string]bool{}
	for range r.IntN(4) {
		b := policy.FeeBudget{Wallet: pick(r, wallets), Window: policy.Duration(pick(r, windows)), MaxFee: policy.AmountFromUint64(1 + uint64(r.IntN(20_000)))}
		if k := b.Wallet + "/" + b.Window.String(); !seen[k] {
			seen[k] = true
			d.Invariants.FeeBudgets = append(d.Invariants.FeeBudgets, b)
		}
	}
}

// RandomFee returns a spend's fee: none, small, or (rarely) large.
func RandomFee(r *rand.Rand) policy.Amount {
	switch r.IntN(6) {
	case 0, 1:
		return policy.Amount{}
	case 5:
		return policy.AmountFromUint64(uint64(r.IntN(1 << 20)))
	}
	return policy.AmountFromUint64(uint64(1 + r.IntN(3000)))
}

func uint64Ptr(v uint64) *policy.Uint { u := policy.Uint(v); return &u }
