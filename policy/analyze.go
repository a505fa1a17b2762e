package policy

import (
	"strconv"
	"strings"
)

// analyzeRules refuses rules that can never match (no possible source,
// asset and destination together, or shadowed by an earlier rule) and any
// allow or require_approval rule that lets a cold or SAFU wallet pay
// outside its pinned wallets.
func (c *compiler) analyzeRules() {
	for i, r := range c.p.rules {
		if !r.ok {
			continue
		}
		path := "rules[" + strconv.Itoa(i) + "] " + strconv.Quote(r.r.ID)
		if why := c.p.unsatisfiable(r); why != "" {
			c.fail(path, ErrNeverMatches, "%s", why)
			continue
		}
		for _, e := range c.p.rules[:i] {
			if e.ok && subset(&r.m, &e.m, c.p, c.p) {
				c.fail(path, ErrShadowed, "every request it matches is matched first by rules[%d] %q", e.idx, e.r.ID)
				break
			}
		}
		if r.r.Action != ActionDeny {
			if esc := c.p.coldEscapes(r); len(esc) > 0 {
				c.fail(path, ErrColdEscape, "%s", strings.Join(esc, "; "))
			}
		}
	}
}

// unsatisfiable explains why no request can match r, or returns "".
func (p *Policy) unsatisfiable(r *rule) string {
	if len(r.m.src) == 0 {
		return "no wallet matches the source"
	}
	assetOK, destOK := false, false
	for _, w := range p.wallets {
		if !r.src[w.idx] {
			continue
		}
		for _, a := range p.assets {
			if r.assets[a.idx] && a.chain == w.w.Chain {
				assetOK = true
			}
		}
		if p.destinationPossible(r, w) {
			destOK = true
		}
	}
	switch {
	case !assetOK:
		return "no matched asset is on the chain of a matched source wallet"
	case !destOK:
		return "no matched destination is on the chain and network of a matched source wallet"
	}
	return ""
}

func (p *Policy) destinationPossible(r *rule, src *walletInfo) bool {
	if r.dstExternal {
		return true
	}
	for _, d := range p.wallets {
		if r.dstOwn[d.idx] && d.w.Chain == src.w.Chain && d.net == src.net {
			return true
		}
	}
	for _, wl := range p.whitelists {
		if r.dstWL[wl.idx] && wl.chain == src.w.Chain && len(wl.entries) > 0 {
			return true
		}
	}
	return false
}

// coldEscapes lists, for each cold or SAFU source of r, the destinations
// outside its pinned wallets that r would let it pay to.
func (p *Policy) coldEscapes(r *rule) []string {
	var out []string
	for _, w := range p.wallets {
		if !r.src[w.idx] || !w.w.Class.pinnedOnly() {
			continue
		}
		var bad []string
		if r.dstExternal {
			bad = append(bad, "any external address")
		}
		for _, wl := range p.whitelists {
			if r.dstWL[wl.idx] && wl.chain == w.w.Chain {
				bad = append(bad, "whitelist "+strconv.Quote(wl.id))
			}
		}
		for _, d := range p.wallets {
			if r.dstOwn[d.idx] && d.w.Chain == w.w.Chain && d.net == w.net && !w.pinned[d.idx] {
				bad = append(bad, "unpinned wallet "+strconv.Quote(d.w.ID))
			}
		}
		if len(bad) > 0 {
			out = append(out, string(w.w.Class)+" wallet "+strconv.Quote(w.w.ID)+" could pay to "+strings.Join(bad, ", "))
		}
	}
	return out
}
