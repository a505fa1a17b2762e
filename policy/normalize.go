package policy

import (
	"cmp"
	"slices"
	"strings"
)

// normalized returns a deep copy of d in canonical form: keys and ETH
// addresses in canonical text, times in UTC, set-like lists sorted, empty
// lists nil. Rules keep their order. Invalid values are left for validation
// to report.
func (d Document) normalized() Document {
	n := d
	n.Parent = strings.ToLower(d.Parent)
	n.Admins.Members = sortedBy(d.Admins.Members, func(a Admin) string { return a.ID })
	for i := range n.Admins.Members {
		n.Admins.Members[i].Key = canonicalKey(n.Admins.Members[i].Key)
	}
	n.Roles = sortedStrings(d.Roles)
	n.Groups = sortedBy(d.Groups, func(g Group) string { return g.ID })
	for i := range n.Groups {
		n.Groups[i].Members = sortedStrings(n.Groups[i].Members)
	}
	n.Officers = sortedBy(d.Officers, func(o Officer) string { return o.ID })
	for i := range n.Officers {
		n.Officers[i].Key = canonicalKey(n.Officers[i].Key)
		n.Officers[i].Groups = sortedStrings(n.Officers[i].Groups)
	}
	n.Assets = sortedBy(d.Assets, func(a Asset) string { return a.ID })
	for i := range n.Assets {
		n.Assets[i].Contract = canonicalAddress(n.Assets[i].Contract)
	}
	n.Wallets = sortedBy(d.Wallets, func(w Wallet) string { return w.ID })
	for i := range n.Wallets {
		n.Wallets[i].Addresses = sortedStrings(mapSlice(n.Wallets[i].Addresses, canonicalAddress))
	}
	n.Whitelists = sortedBy(d.Whitelists, func(w Whitelist) string { return w.ID })
	for i := range n.Whitelists {
		es := make([]WhitelistEntry, len(n.Whitelists[i].Entries))
		for j, e := range n.Whitelists[i].Entries {
			e.Address = canonicalAddress(e.Address)
			e.AddedAt = e.AddedAt.UTC()
			es[j] = e
		}
		n.Whitelists[i].Entries = sortedBy(es, func(e WhitelistEntry) string { return e.Address })
	}
	n.Invariants.PinnedDestinations = sortedBy(d.Invariants.PinnedDestinations, func(p Pin) string { return p.Wallet })
	for i := range n.Invariants.PinnedDestinations {
		n.Invariants.PinnedDestinations[i].To = sortedStrings(n.Invariants.PinnedDestinations[i].To)
	}
	n.Invariants.FeeCaps = sortedBy(d.Invariants.FeeCaps, func(f FeeCap) string { return string(f.Chain) })
	for i := range n.Invariants.FeeCaps {
		f := &n.Invariants.FeeCaps[i]
		f.MaxFeeBps, f.MaxFeeRate, f.MaxPriorityFeePerGas = copyPtr(f.MaxFeeBps), copyPtr(f.MaxFeeRate), copyAmount(f.MaxPriorityFeePerGas)
	}
	n.Invariants.FeeBudgets = sortedFunc(d.Invariants.FeeBudgets, func(a, b FeeBudget) int {
		return cmp.Or(cmp.Compare(a.Wallet, b.Wallet), cmp.Compare(a.Window, b.Window), a.MaxFee.Cmp(b.MaxFee))
	})
	if len(d.Rules) > 0 {
		n.Rules = make([]Rule, len(d.Rules))
		for i, r := range d.Rules {
			n.Rules[i] = r.normalized()
		}
	}
	return n
}

func (r Rule) normalized() Rule {
	n := r
	n.Match.Source.Wallets = sortedStrings(r.Match.Source.Wallets)
	n.Match.Source.Classes = sortedStrings(r.Match.Source.Classes)
	n.Match.Destination.Wallets = sortedStrings(r.Match.Destination.Wallets)
	n.Match.Destination.Classes = sortedStrings(r.Match.Destination.Classes)
	n.Match.Destination.Whitelists = sortedStrings(r.Match.Destination.Whitelists)
	n.Match.Assets = sortedStrings(r.Match.Assets)
	n.Match.InitiatorRoles = sortedStrings(r.Match.InitiatorRoles)
	n.Match.Amount.Min = copyAmount(r.Match.Amount.Min)
	n.Match.Amount.Max = copyAmount(r.Match.Amount.Max)
	termKey := func(a, b Term) int { return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.K, b.K)) }
	n.Approvals.AllOf = sortedFunc(r.Approvals.AllOf, termKey)
	n.Approvals.AnyOf = sortedFunc(r.Approvals.AnyOf, termKey)
	n.Limits = sortedFunc(r.Limits, func(a, b Limit) int {
		return cmp.Or(cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.Window, b.Window),
			cmp.Compare(a.MaxCount, b.MaxCount), cmpOptAmount(a.MaxAmount, b.MaxAmount))
	})
	for i := range n.Limits {
		n.Limits[i].MaxAmount = copyAmount(n.Limits[i].MaxAmount)
	}
	n.VetoGroups = sortedStrings(r.VetoGroups)
	n.MaxFeeBps = copyPtr(r.MaxFeeBps)
	return n
}

func cmpOptAmount(a, b *Amount) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Cmp(*b)
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func copyAmount(a *Amount) *Amount {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// canonicalKey re-encodes a parsable key; an unparsable one is kept for
// validation to report.
func canonicalKey(s string) string {
	k, err := ParsePublicKey(s)
	if err != nil {
		return s
	}
	return k.String()
}

// canonicalAddress lower-cases a 0x-prefixed 20-byte hex (ETH) address, so
// EIP-55 checksum case does not make one address two; any other address is
// compared exactly.
func canonicalAddress(s string) string {
	if isHexAddress(s) {
		return strings.ToLower(s)
	}
	return s
}

func isHexAddress(s string) bool {
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func sortedStrings[S ~string](in []S) []S {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

func sortedBy[T any](in []T, key func(T) string) []T {
	return sortedFunc(in, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}

func sortedFunc[T any](in []T, c func(a, b T) int) []T {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.SortStableFunc(out, c)
	return out
}

func mapSlice[T any](in []T, f func(T) T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
