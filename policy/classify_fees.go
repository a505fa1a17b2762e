package policy

import "strconv"

// compareFees loosens on any fee bound that allows more than before: a
// chain's absolute cap, relative cap (bps), btc fee rate ceiling or eth
// priority fee cap raised or removed, and a wallet's fee budget raised,
// removed or shortened. A budget is covered by a new one of the same
// wallet with a window at least as long and a max_fee at most as high
// (the longer window holds every fee the shorter one did). New or lower
// bounds tighten. A rule's relative cap is compared with the rule (see
// comparePair).
func (c *classifier) compareFees() {
	for _, ch := range []Chain{ChainBTC, ChainETH} {
		o, had := c.old.feeCaps[ch]
		if !had {
			continue
		}
		n, has := c.new.feeCaps[ch]
		if !has {
			c.loosen("fee cap of %s removed", ch)
			continue
		}
		if n.maxFee.Cmp(o.maxFee) > 0 {
			c.loosen("fee cap of %s raised from %s to %s", ch, o.maxFee, n.maxFee)
		}
		if looserBound(o.bps, n.bps) {
			c.loosen("relative fee cap of %s raised or removed (%s → %s)", ch, bound(o.bps, "bps"), bound(n.bps, "bps"))
		}
		if looserBound(o.rate, n.rate) {
			c.loosen("fee rate ceiling of %s raised or removed (%s → %s)", ch, bound(o.rate, "sat/vB"), bound(n.rate, "sat/vB"))
		}
		if o.prio != nil && (n.prio == nil || n.prio.Cmp(*o.prio) > 0) {
			now := "none"
			if n.prio != nil {
				now = n.prio.String() + " wei/gas"
			}
			c.loosen("priority fee cap of %s raised or removed (%s wei/gas → %s)", ch, o.prio, now)
		}
	}
	for _, ow := range c.old.wallets {
		ni, ok := c.new.walletIx[ow.w.ID]
		for _, ob := range ow.budgets {
			if !ok || !budgetCovered(ob, c.new.wallets[ni].budgets) {
				c.loosen("fee budget of %s over %s raised, shortened or removed", ow.w.ID, ob.window)
			}
		}
	}
}

// looserBound reports whether the optional bound n (0: none) allows more
// than o.
func looserBound(o, n uint64) bool { return o > 0 && (n == 0 || n > o) }

func bound(v uint64, unit string) string {
	if v == 0 {
		return "none"
	}
	return strconv.FormatUint(v, 10) + " " + unit
}

// budgetCovered reports whether some budget of ns is at least as strict
// as o.
func budgetCovered(o feeBudget, ns []feeBudget) bool {
	for _, n := range ns {
		if n.window >= o.window && n.maxFee.Cmp(o.maxFee) <= 0 {
			return true
		}
	}
	return false
}
