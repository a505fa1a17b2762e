package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// ChangeKind classifies a policy change.
type ChangeKind uint8

// Change kinds. A change is Tightening only when it provably cannot turn a
// deny or pending decision into allow (nor loosen governance); anything
// else, including whatever the engine cannot prove, is Loosening.
const (
	Tightening ChangeKind = iota
	Loosening
)

func (k ChangeKind) String() string {
	if k == Tightening {
		return "tightening"
	}
	return "loosening"
}

// MarshalText implements encoding.TextMarshaler.
func (k ChangeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Change is the classification of new against old, with every loosening
// reason found (in a fixed order).
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Reasons []string   `json:"reasons,omitempty"`
}

type classifier struct {
	old, new *Policy
	reasons  []string
}

func (c *classifier) loosen(format string, args ...any) {
	c.reasons = append(c.reasons, fmt.Sprintf(format, args...))
}

// Classify classifies the change from old to new. Loosening includes: a
// lower admin quorum, a new or re-keyed admin or officer, an officer added
// to a group, a member leaving a veto group, a shorter loosen_delay, a
// longer approval TTL, any change of assets or wallets, a whitelist entry
// added or activating earlier, a new pin, a higher or removed fee cap, fee
// bound (see compareFees) or balance ceiling, and any rule change that may
// let a request reach a more permissive outcome (see compareRules).
func Classify(old, new *Policy) Change {
	c := &classifier{old: old, new: new}
	c.compareGovernance()
	c.compareOfficers()
	c.compareEntities()
	c.compareWhitelists()
	c.compareInvariants()
	c.compareRules()
	if len(c.reasons) == 0 {
		return Change{Kind: Tightening}
	}
	return Change{Kind: Loosening, Reasons: c.reasons}
}

func (c *classifier) compareGovernance() {
	o, n := c.old.doc, c.new.doc
	if n.LoosenDelay < o.LoosenDelay {
		c.loosen("loosen_delay shortened from %s to %s", o.LoosenDelay, n.LoosenDelay)
	}
	if n.ApprovalTTL > o.ApprovalTTL {
		c.loosen("approval_ttl lengthened from %s to %s", o.ApprovalTTL, n.ApprovalTTL)
	}
	if n.Admins.Quorum < o.Admins.Quorum {
		c.loosen("admin quorum lowered from %d to %d", o.Admins.Quorum, n.Admins.Quorum)
	}
	for _, id := range sortedKeys(keySet(c.new.admins)) {
		ok, had := c.old.admins[id]
		switch {
		case !had:
			c.loosen("admin %s added", id)
		case !ok.Equal(c.new.admins[id]):
			c.loosen("admin %s key changed", id)
		}
	}
}

func keySet[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// vetoGroups returns the groups used as veto groups by any rule of p.
func (p *Policy) vetoGroups() map[string]bool {
	out := map[string]bool{}
	for _, r := range p.rules {
		for _, g := range r.r.VetoGroups {
			out[g] = true
		}
	}
	return out
}

func (c *classifier) compareOfficers() {
	veto := c.old.vetoGroups()
	for g := range c.new.vetoGroups() {
		veto[g] = true
	}
	ids := keySet(c.old.officers)
	for id := range c.new.officers {
		ids[id] = true
	}
	for _, id := range sortedKeys(ids) {
		o, n := c.old.officers[id], c.new.officers[id]
		var oldGroups, newGroups []string
		if o != nil {
			oldGroups = o.groups
		}
		if n != nil {
			newGroups = n.groups
		}
		if o != nil && n != nil && !o.key.Equal(n.key) {
			c.loosen("officer %s key changed", id)
		}
		for _, g := range newGroups {
			if !slices.Contains(oldGroups, g) {
				c.loosen("officer %s added to group %s", id, g)
			}
		}
		for _, g := range oldGroups {
			if veto[g] && !slices.Contains(newGroups, g) {
				c.loosen("officer %s left veto group %s", id, g)
			}
		}
	}
}

func (c *classifier) compareEntities() {
	compareByID(c, "asset", c.old.doc.Assets, c.new.doc.Assets, func(a Asset) string { return a.ID })
	compareByID(c, "wallet", c.old.doc.Wallets, c.new.doc.Wallets, func(w Wallet) string { return w.ID })
}

// compareByID reports any added, removed or changed item as loosening:
// wallets and assets decide what is own, what is external and which chain
// rules apply, so no change of theirs is provably tightening.
func compareByID[T any](c *classifier, kind string, old, new []T, id func(T) string) {
	enc := func(xs []T) map[string]string {
		m := map[string]string{}
		for _, x := range xs {
			b, _ := json.Marshal(x)
			m[id(x)] = string(b)
		}
		return m
	}
	o, n := enc(old), enc(new)
	ids := keySet(o)
	for k := range n {
		ids[k] = true
	}
	for _, k := range sortedKeys(ids) {
		ov, had := o[k]
		nv, has := n[k]
		switch {
		case !had:
			c.loosen("%s %s added", kind, k)
		case !has:
			c.loosen("%s %s removed", kind, k)
		case ov != nv:
			c.loosen("%s %s changed", kind, k)
		}
	}
}

func (c *classifier) compareWhitelists() {
	for _, nw := range c.new.whitelists {
		ow := c.old.whitelist(nw.id)
		if ow != nil && ow.chain != nw.chain {
			c.loosen("whitelist %s moved to chain %s", nw.id, nw.chain)
			continue
		}
		for _, addr := range sortedKeys(keySet(nw.entries)) {
			ne := nw.entries[addr]
			var oe WhitelistEntry
			var had bool
			if ow != nil {
				oe, had = ow.entries[addr]
			}
			switch {
			case !had:
				c.loosen("whitelist %s: entry %s added", nw.id, addr)
			case nw.activation(ne).Before(ow.activation(oe)):
				c.loosen("whitelist %s: entry %s activates earlier", nw.id, addr)
			}
		}
	}
}

func (c *classifier) compareInvariants() {
	for _, nw := range c.new.wallets {
		oi, ok := c.old.walletIx[nw.w.ID]
		if !ok {
			continue // wallet added: already loosening
		}
		for _, d := range c.new.wallets {
			if !nw.pinned[d.idx] {
				continue
			}
			if di, ok := c.old.walletIx[d.w.ID]; !ok || !c.old.wallets[oi].pinned[di] {
				c.loosen("wallet %s newly pinned to %s", nw.w.ID, d.w.ID)
			}
		}
	}
	c.compareFees()
}

func ruleName(r *rule) string { return "rule " + strconv.Quote(r.r.ID) }
