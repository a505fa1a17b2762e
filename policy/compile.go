package policy

import (
	"fmt"
	"slices"
	"strconv"
)

// compiler validates a normalized document and builds the Policy's indexes
// in one pass, collecting every error. Items with errors are left out of the
// indexes so that later checks do not report consequences twice.
type compiler struct {
	doc  Document
	p    *Policy
	errs []error
}

func (c *compiler) fail(path string, sentinel error, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg == "" {
		c.errs = append(c.errs, fieldErr(path, sentinel))
		return
	}
	c.errs = append(c.errs, fieldErr(path, fmt.Errorf("%s: %w", msg, sentinel)))
}

func (c *compiler) compile() {
	c.top()
	c.compileAdmins()
	c.compileRoles()
	c.compileGroups()
	c.compileOfficers()
	c.compileAssets()
	c.compileWallets()
	c.compileWhitelists()
	c.compileInvariants()
	c.compileRules()
	c.analyzeRules()
}

func (c *compiler) top() {
	d := c.doc
	if d.Version == 0 {
		c.fail("version", ErrMissing, "must be at least 1")
	}
	switch {
	case d.Parent == "" && d.Version > 1:
		c.fail("parent", ErrMissing, "version %d must name its parent's hash", d.Version)
	case d.Parent != "" && d.Version == 1:
		c.fail("parent", ErrInvalid, "version 1 has no parent")
	case d.Parent != "":
		h, err := ParseHash(d.Parent)
		if err != nil {
			c.fail("parent", ErrInvalid, "want 64 hex digits")
		}
		c.p.parent = h
	}
	if d.LoosenDelay <= 0 {
		c.fail("loosen_delay", ErrMissing, "must be positive")
	}
	if d.ApprovalTTL <= 0 {
		c.fail("approval_ttl", ErrMissing, "must be positive")
	}
}

// validID accepts 1-64 characters of [A-Za-z0-9._-], starting alphanumeric.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		alnum := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9'
		if !alnum && (i == 0 || ch != '.' && ch != '_' && ch != '-') {
			return false
		}
	}
	return true
}

// checkIDs reports invalid and duplicate IDs of a sorted list and returns,
// per index, whether the item is valid and the first with its ID (later
// duplicates are left out; references to the ID still resolve).
func (c *compiler) checkIDs(section string, ids []string) []bool {
	keep := make([]bool, len(ids))
	for i, id := range ids {
		path := section + "[" + strconv.Quote(id) + "]"
		switch {
		case !validID(id):
			c.fail(path, ErrInvalid, "id must be 1-64 of [A-Za-z0-9._-], starting alphanumeric")
		case i > 0 && ids[i-1] == id:
			if i == 1 || ids[i-2] != id {
				c.fail(path, ErrDuplicateID, "")
			}
		default:
			keep[i] = true
		}
	}
	return keep
}

func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func (c *compiler) compileAdmins() {
	a := c.doc.Admins
	c.p.admins = map[string]PublicKey{}
	if len(a.Members) == 0 {
		c.fail("admins.members", ErrMissing, "at least one admin")
	}
	keep := c.checkIDs("admins.members", idsOf(a.Members, func(m Admin) string { return m.ID }))
	keys := map[string]string{}
	for i, m := range a.Members {
		if !keep[i] {
			continue
		}
		path := "admins.members[" + strconv.Quote(m.ID) + "].key"
		k, err := ParsePublicKey(m.Key)
		if err != nil {
			c.errs = append(c.errs, fieldErr(path, err))
			continue
		}
		if other, dup := keys[k.String()]; dup {
			c.fail(path, ErrDuplicateID, "same key as admin %q", other)
			continue
		}
		keys[k.String()] = m.ID
		c.p.admins[m.ID] = k
	}
	if a.Quorum < 1 || a.Quorum > len(a.Members) {
		c.fail("admins.quorum", ErrThresholdTooLarge, "quorum %d must be between 1 and %d admins", a.Quorum, len(a.Members))
	}
}

func (c *compiler) compileRoles() {
	keep := c.checkIDs("roles", c.doc.Roles)
	c.p.roles = map[string]bool{}
	for i, r := range c.doc.Roles {
		if keep[i] {
			c.p.roles[r] = true
		}
	}
}

func (c *compiler) compileGroups() {
	keep := c.checkIDs("groups", idsOf(c.doc.Groups, func(g Group) string { return g.ID }))
	c.p.groups = make(map[string]*groupInfo, len(keep))
	for i, g := range c.doc.Groups {
		if keep[i] {
			c.p.groups[g.ID] = &groupInfo{id: g.ID, member: map[string]bool{}}
		}
	}
}

func (c *compiler) compileOfficers() {
	keep := c.checkIDs("officers", idsOf(c.doc.Officers, func(o Officer) string { return o.ID }))
	c.p.officers = make(map[string]*officerInfo, len(keep))
	keys := map[string]string{}
	for i, o := range c.doc.Officers { // sorted by ID
		if !keep[i] {
			continue
		}
		path := "officers[" + strconv.Quote(o.ID) + "]"
		k, err := ParsePublicKey(o.Key)
		if err != nil {
			c.errs = append(c.errs, fieldErr(path+".key", err))
			continue
		}
		if other, dup := keys[k.String()]; dup {
			c.fail(path+".key", ErrDuplicateID, "same key as officer %q", other)
			continue
		}
		keys[k.String()] = o.ID
		oi := &officerInfo{id: o.ID, key: k}
		for j, g := range o.Groups {
			gi, known := c.p.groups[g]
			switch {
			case !known:
				c.fail(path+".groups", ErrUnknownGroup, "%q", g)
			case j > 0 && o.Groups[j-1] == g:
				c.fail(path+".groups", ErrDuplicateID, "group %q listed twice", g)
			default:
				oi.groups = append(oi.groups, g)
				gi.members = append(gi.members, o.ID) // officers are sorted
				gi.member[o.ID] = true
			}
		}
		c.p.officers[o.ID] = oi
	}
	for _, g := range c.doc.Groups {
		gi, ok := c.p.groups[g.ID]
		if !ok {
			continue
		}
		path := "groups[" + strconv.Quote(g.ID) + "].members"
		for j, m := range g.Members {
			oi, known := c.p.officers[m]
			switch {
			case !known:
				c.fail(path, ErrUnknownOfficer, "%q", m)
			case j > 0 && g.Members[j-1] == m:
				c.fail(path, ErrDuplicateID, "officer %q listed twice", m)
			case !gi.member[m]:
				gi.member[m] = true
				gi.members = append(gi.members, m)
				oi.groups = append(oi.groups, g.ID)
			}
		}
		slices.Sort(gi.members)
	}
	for _, oi := range c.p.officers {
		slices.Sort(oi.groups)
	}
}

func (c *compiler) compileAssets() {
	keep := c.checkIDs("assets", idsOf(c.doc.Assets, func(a Asset) string { return a.ID }))
	c.p.assetIx = map[string]int{}
	natives := map[Chain]string{}
	contracts := map[string]string{}
	for i, a := range c.doc.Assets {
		if !keep[i] {
			continue
		}
		path := "assets[" + strconv.Quote(a.ID) + "]"
		bad := false
		switch {
		case a.Chain != ChainBTC && a.Chain != ChainETH:
			c.fail(path+".chain", ErrInvalid, "chain %q: want btc or eth", a.Chain)
			bad = true
		case a.Contract == "":
			if other, dup := natives[a.Chain]; dup {
				c.fail(path, ErrDuplicateID, "second native asset of %s (first %q)", a.Chain, other)
				bad = true
			}
			natives[a.Chain] = a.ID
		case a.Chain != ChainETH:
			c.fail(path+".contract", ErrInvalid, "only eth assets have a contract")
			bad = true
		case !isHexAddress(a.Contract):
			c.fail(path+".contract", ErrInvalid, "want a 0x-prefixed 20-byte hex address")
			bad = true
		default:
			if other, dup := contracts[a.Contract]; dup {
				c.fail(path+".contract", ErrDuplicateID, "same contract as asset %q", other)
				bad = true
			}
			contracts[a.Contract] = a.ID
		}
		if bad {
			continue
		}
		c.p.assetIx[a.ID] = len(c.p.assets)
		c.p.assets = append(c.p.assets, &assetInfo{idx: len(c.p.assets), id: a.ID, chain: a.Chain, contract: a.Contract})
	}
}
