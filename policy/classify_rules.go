package policy

import "slices"

// compareRules loosens on any rule change that may give some request a more
// permissive outcome:
//   - common rules reordered;
//   - a rule added with an action other than deny;
//   - a deny rule removed or narrowed;
//   - a non-deny rule widened, or its action made less strict;
//   - requests that a removed or narrowed non-deny rule matched could now
//     reach a later non-deny rule (their match sets overlap);
//   - a limit removed or relaxed (shorter window, higher cap), a relative
//     fee cap raised or removed, a shorter timelock, a veto group dropped,
//     or approvals no longer implying the old ones (compared per group, see
//     approvalsDominate).
func (c *classifier) compareRules() {
	oldByID := map[string]*rule{}
	for _, r := range c.old.rules {
		oldByID[r.r.ID] = r
	}
	newPos := map[string]int{}
	for i, r := range c.new.rules {
		newPos[r.r.ID] = i
	}
	var commonOld, commonNew []string
	for _, r := range c.old.rules {
		if _, ok := newPos[r.r.ID]; ok {
			commonOld = append(commonOld, r.r.ID)
		}
	}
	for _, r := range c.new.rules {
		if _, ok := oldByID[r.r.ID]; ok {
			commonNew = append(commonNew, r.r.ID)
		}
	}
	if !slices.Equal(commonOld, commonNew) {
		c.loosen("rules reordered")
	}
	// Removed rules, in old order; "next" is where their requests resume in
	// the new list: after the last common rule that preceded them.
	next := 0
	for _, r := range c.old.rules {
		if i, ok := newPos[r.r.ID]; ok {
			next = i + 1
			continue
		}
		if r.r.Action == ActionDeny {
			c.loosen("deny %s removed", ruleName(r))
			continue
		}
		c.escapes(r, next, "removed")
	}
	for i, n := range c.new.rules {
		o, ok := oldByID[n.r.ID]
		if !ok {
			if n.r.Action != ActionDeny {
				c.loosen("%s added with action %s", ruleName(n), n.r.Action)
			}
			continue
		}
		c.comparePair(o, n, i)
	}
}

func (c *classifier) comparePair(o, n *rule, pos int) {
	name := ruleName(n)
	if n.r.Action.strictness() < o.r.Action.strictness() {
		c.loosen("%s action %s → %s", name, o.r.Action, n.r.Action)
	}
	if n.r.Action != ActionDeny && !subset(&n.m, &o.m, c.new, c.old) {
		c.loosen("%s matches requests it did not match", name)
	}
	if !subset(&o.m, &n.m, c.old, c.new) {
		if o.r.Action == ActionDeny {
			c.loosen("deny %s matches fewer requests", name)
		} else {
			c.escapes(o, pos+1, "narrowed")
		}
	}
	if n.r.Action == ActionDeny || o.r.Action == ActionDeny {
		return // a deny rule needs nothing more; deny → other was reported
	}
	for _, l := range o.r.Limits {
		if !slices.ContainsFunc(n.r.Limits, func(m Limit) bool { return limitCovers(m, l) }) {
			c.loosen("%s: limit %s/%s relaxed or removed", name, l.Scope, l.Window)
		}
	}
	if looserBound(o.maxFeeBps, n.maxFeeBps) {
		c.loosen("%s: relative fee cap raised or removed (%s → %s)", name, bound(o.maxFeeBps, "bps"), bound(n.maxFeeBps, "bps"))
	}
	if n.timelock < o.timelock {
		c.loosen("%s: timelock shortened from %s to %s", name, o.timelock, n.timelock)
	}
	for _, g := range o.r.VetoGroups {
		if !slices.Contains(n.r.VetoGroups, g) {
			c.loosen("%s: veto group %s dropped", name, g)
		}
	}
	if o.r.Action == ActionRequireApproval && n.r.Action == ActionRequireApproval &&
		!approvalsDominate(n.r.Approvals, o.r.Approvals) {
		c.loosen("%s: approvals no longer imply the old ones", name)
	}
}

// escapes loosens if requests that old rule o matched could now reach a
// non-deny rule at or after position from in the new list.
func (c *classifier) escapes(o *rule, from int, how string) {
	for _, n := range c.new.rules[min(from, len(c.new.rules)):] {
		if n.r.Action != ActionDeny && n.r.ID != o.r.ID && !disjoint(&o.m, &n.m, c.old, c.new) {
			c.loosen("%s %s: its requests may now reach %s", ruleName(o), how, ruleName(n))
		}
	}
}

// limitCovers reports whether limit n is at least as strict as o: same
// scope, a window at least as long and caps at least as low.
func limitCovers(n, o Limit) bool {
	if n.Scope != o.Scope || n.Window < o.Window {
		return false
	}
	if o.MaxAmount != nil && (n.MaxAmount == nil || n.MaxAmount.Cmp(*o.MaxAmount) > 0) {
		return false
	}
	if o.MaxCount > 0 && (n.MaxCount == 0 || n.MaxCount > o.MaxCount) {
		return false
	}
	return true
}

// approvalsDominate reports whether satisfying n implies satisfying o. An
// option is all_of plus one any_of term (or all_of alone when any_of is
// empty); n dominates o when every option of n needs, per group, at least
// as many approvals as some option of o. Distinct officers filling an
// option of n's slots then fill that option of o's.
func approvalsDominate(n, o Approvals) bool {
	no, oo := options(n), options(o)
	for _, x := range no {
		if !slices.ContainsFunc(oo, func(y map[string]int) bool { return covers(x, y) }) {
			return false
		}
	}
	return true
}

func options(a Approvals) []map[string]int {
	sum := func(terms []Term) map[string]int {
		m := map[string]int{}
		for _, t := range terms {
			m[t.Group] += t.K
		}
		return m
	}
	if len(a.AnyOf) == 0 {
		return []map[string]int{sum(a.AllOf)}
	}
	out := make([]map[string]int, len(a.AnyOf))
	for i, t := range a.AnyOf {
		out[i] = sum(append(slices.Clone(a.AllOf), t))
	}
	return out
}

func covers(x, y map[string]int) bool {
	for g, k := range y {
		if x[g] < k {
			return false
		}
	}
	return true
}
