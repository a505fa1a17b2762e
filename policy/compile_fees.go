package policy

import (
	"strconv"
	"time"
)

// This file validates the fee bounds: per-chain caps (absolute, relative
// to the amount, btc fee rate, eth priority fee), per-wallet fee budgets
// over sliding windows, and a rule's relative cap.

// maxBps is 100 % in basis points: a relative cap above it would allow a
// fee larger than the amount, which no cap needs to say.
const maxBps = 10_000

// feeCap is a chain's compiled fee bounds. A zero bps or rate and a nil
// prio are no bound.
type feeCap struct {
	maxFee Amount
	bps    uint64  // fee × 10000 ≤ amount × bps (native asset only)
	rate   uint64  // sat/vB (btc)
	prio   *Amount // wei per gas (eth)
}

// feeBudget is one of a wallet's compiled fee budgets.
type feeBudget struct {
	window time.Duration
	maxFee Amount
	line   string // trace prefix: "fee budget of <wallet> over <window> since "
}

func (c *compiler) compileFees() {
	inv := c.doc.Invariants
	c.p.feeCaps = map[Chain]*feeCap{}
	for _, f := range inv.FeeCaps {
		path := "invariants.fee_caps[" + strconv.Quote(string(f.Chain)) + "]"
		if _, dup := c.p.feeCaps[f.Chain]; dup {
			c.fail(path, ErrDuplicateID, "chain capped twice")
			continue
		}
		if f.Chain != ChainBTC && f.Chain != ChainETH {
			c.fail(path, ErrInvalid, "chain %q: want btc or eth", f.Chain)
			continue
		}
		fc := &feeCap{maxFee: f.MaxFee, prio: copyAmount(f.MaxPriorityFeePerGas)}
		if f.MaxFeeBps != nil {
			fc.bps = uint64(*f.MaxFeeBps)
			c.checkBps(path+".max_fee_bps", fc.bps)
		}
		if f.MaxFeeRate != nil {
			fc.rate = uint64(*f.MaxFeeRate)
			switch {
			case f.Chain != ChainBTC:
				c.fail(path+".max_fee_rate", ErrInvalid, "a fee rate ceiling (sat/vB) applies to btc only")
			case fc.rate == 0:
				c.fail(path+".max_fee_rate", ErrInvalid, "must be a positive number of sat/vB")
			}
		}
		if f.MaxPriorityFeePerGas != nil && f.Chain != ChainETH {
			c.fail(path+".max_priority_fee_per_gas", ErrInvalid, "a priority fee cap applies to eth only")
		}
		c.p.feeCaps[f.Chain] = fc
	}
	for _, w := range c.p.wallets {
		if _, ok := c.p.feeCaps[w.w.Chain]; !ok {
			c.fail("invariants.fee_caps", ErrMissing, "no fee cap for chain %s (wallet %q)", w.w.Chain, w.w.ID)
			c.p.feeCaps[w.w.Chain] = &feeCap{} // report once per chain
		}
	}
	// Budgets are sorted by wallet, then window: a duplicate is adjacent.
	for i, b := range inv.FeeBudgets {
		path := "invariants.fee_budgets[" + strconv.Quote(b.Wallet+"/"+b.Window.String()) + "]"
		wi, ok := c.p.walletIx[b.Wallet]
		switch {
		case !ok:
			c.fail(path, ErrUnknownWallet, "%q", b.Wallet)
		case b.Window <= 0:
			c.fail(path+".window", ErrMissing, "must be positive")
		case b.MaxFee.IsZero():
			c.fail(path+".max_fee", ErrInvalid, "must be positive (a zero budget stops every transfer: use a deny rule)")
		case i > 0 && inv.FeeBudgets[i-1].Wallet == b.Wallet && inv.FeeBudgets[i-1].Window == b.Window:
			c.fail(path, ErrDuplicateID, "one budget per wallet and window")
		default:
			w := c.p.wallets[wi]
			w.budgets = append(w.budgets, feeBudget{window: b.Window.D(), maxFee: b.MaxFee,
				line: "fee budget of " + w.w.ID + " over " + b.Window.String() + " since "})
		}
	}
}

func (c *compiler) checkBps(path string, bps uint64) {
	if bps < 1 || bps > maxBps {
		c.fail(path, ErrInvalid, "%d: want 1 to %d basis points of the amount", bps, maxBps)
	}
}

// compileRuleFee validates a rule's relative fee cap: it needs a rule that
// can allow, and assets that are all native, since a token amount is not
// comparable with a fee paid in the chain's native coin.
func (c *compiler) compileRuleFee(path string, cr *rule) {
	if cr.r.MaxFeeBps == nil {
		return
	}
	path += ".max_fee_bps"
	cr.maxFeeBps = uint64(*cr.r.MaxFeeBps)
	c.checkBps(path, cr.maxFeeBps)
	if cr.r.Action == ActionDeny {
		c.fail(path, ErrInvalid, "a deny rule has no fee cap")
	}
	if len(cr.r.Match.Assets) == 0 {
		c.fail(path, ErrInvalid, "a relative fee cap needs match.assets naming native assets only")
	}
	for _, id := range cr.r.Match.Assets {
		if ai, ok := c.p.assetIx[id]; ok && c.p.assets[ai].contract != "" {
			c.fail(path, ErrInvalid, "asset %q is a token: its amount is not comparable with the native fee", id)
		}
	}
}
