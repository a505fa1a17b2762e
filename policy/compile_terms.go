package policy

import "strconv"

// This file validates what a matched rule requires: approval terms and
// sliding-window limits.

func (c *compiler) compileApprovals(path string, cr *rule) {
	a := cr.r.Approvals
	n := len(a.AllOf) + len(a.AnyOf)
	switch {
	case cr.r.Action == ActionRequireApproval && n == 0:
		c.fail(path+".approvals", ErrMissing, "require_approval needs all_of or any_of terms")
		return
	case cr.r.Action != ActionRequireApproval && n > 0:
		c.fail(path+".approvals", ErrInvalid, "only require_approval rules have approvals")
		return
	}
	okTerms := true
	check := func(kind string, terms []Term) {
		for i, t := range terms {
			tpath := path + ".approvals." + kind + "[" + strconv.Itoa(i) + "]"
			g, ok := c.p.groups[t.Group]
			switch {
			case !ok:
				c.fail(tpath, ErrUnknownGroup, "%q", t.Group)
				okTerms = false
			case t.K < 1:
				c.fail(tpath, ErrInvalid, "k must be at least 1")
				okTerms = false
			case t.K > len(g.members):
				c.fail(tpath, ErrThresholdTooLarge, "k %d > %d members of group %q", t.K, len(g.members), t.Group)
				okTerms = false
			}
		}
	}
	check("all_of", a.AllOf)
	check("any_of", a.AnyOf)
	if !okTerms {
		return
	}
	// Officers count once: the terms together must be satisfiable by
	// distinct officers.
	officers := c.officerIDs()
	need := func(terms []Term) bool {
		slots, _ := slotsOf(terms)
		return assign(officers, slots, c.p.isMember).size == len(slots)
	}
	if !need(a.AllOf) {
		c.fail(path+".approvals.all_of", ErrThresholdTooLarge, "the terms need more distinct officers than their groups have")
		return
	}
	for i, t := range a.AnyOf {
		if !need(append(append([]Term(nil), a.AllOf...), t)) {
			c.fail(path+".approvals.any_of["+strconv.Itoa(i)+"]", ErrThresholdTooLarge, "with all_of, needs more distinct officers than the groups have")
		}
	}
}

func (c *compiler) officerIDs() []string {
	ids := make([]string, 0, len(c.doc.Officers))
	for _, o := range c.doc.Officers {
		if _, ok := c.p.officers[o.ID]; ok {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

func (p *Policy) isMember(officer, group string) bool {
	g, ok := p.groups[group]
	return ok && g.member[officer]
}

func (c *compiler) compileLimits(path string, cr *rule) {
	if cr.r.Action == ActionDeny && len(cr.r.Limits) > 0 {
		c.fail(path+".limits", ErrInvalid, "a deny rule has no limits")
		return
	}
	for i, l := range cr.r.Limits {
		lpath := path + ".limits[" + strconv.Itoa(i) + "]"
		switch l.Scope {
		case ScopeRule, ScopeSource, ScopeDestination:
		default:
			c.fail(lpath+".scope", ErrInvalid, "scope %q: want rule, source or destination", l.Scope)
		}
		if l.Window <= 0 {
			c.fail(lpath+".window", ErrMissing, "must be positive")
		}
		if l.MaxAmount == nil && l.MaxCount == 0 {
			c.fail(lpath, ErrMissing, "max_amount or max_count")
		}
		if l.MaxCount < 0 {
			c.fail(lpath+".max_count", ErrInvalid, "must be positive")
		}
		if l.MaxAmount != nil {
			if l.MaxAmount.IsZero() {
				c.fail(lpath+".max_amount", ErrInvalid, "must be positive (use a deny rule)")
			}
			if len(cr.r.Match.Assets) != 1 {
				c.fail(lpath+".max_amount", ErrInvalid, "an amount limit needs exactly one asset in match.assets")
			}
		}
	}
}
