package policy

import (
	"maps"
	"slices"
	"time"
)

// The operations below compare rules' concrete match sets, possibly across
// two policies (pa holds a, pb holds b). They are exact per dimension, and a
// conjunction of per-dimension inclusions is an inclusion of the sets, so
// subset and disjoint never claim more than is true; they may miss some
// inclusions and overlaps (e.g. a rule covered by the union of two others),
// which only makes validation and classification more conservative.

// subset reports whether every request a matches, b matches too.
func subset(a, b *matchSet, pa, pb *Policy) bool {
	if !setSubset(a.src, b.src) || !setSubset(a.assets, b.assets) {
		return false
	}
	if b.min.Cmp(a.min) > 0 || b.max != nil && (a.max == nil || a.max.Cmp(b.max) > 0) {
		return false
	}
	if !b.anyRole && (a.anyRole || !setSubset(a.roles, b.roles)) {
		return false
	}
	if !setSubset(a.own, b.own) || a.external && !b.external {
		return false
	}
	if b.external {
		return true
	}
	for w := range a.wls {
		if !b.wls[w] || !whitelistCovered(pa.whitelist(w), pb.whitelist(w)) {
			return false
		}
	}
	return true
}

// disjoint reports whether no request matches both a and b.
func disjoint(a, b *matchSet, pa, pb *Policy) bool {
	if !intersects(a.src, b.src) || !intersects(a.assets, b.assets) {
		return true
	}
	if a.max != nil && a.max.Cmp(b.min) < 0 || b.max != nil && b.max.Cmp(a.min) < 0 {
		return true
	}
	if !a.anyRole && !b.anyRole && !intersects(a.roles, b.roles) {
		return true
	}
	if intersects(a.own, b.own) {
		return false
	}
	if a.external && (b.external || len(b.wls) > 0) || b.external && len(a.wls) > 0 {
		return false
	}
	for wa := range a.wls {
		for wb := range b.wls {
			if whitelistsOverlap(pa.whitelist(wa), pb.whitelist(wb)) {
				return false
			}
		}
	}
	return true
}

func (p *Policy) whitelist(id string) *whitelistInfo {
	if i, ok := p.wlIx[id]; ok {
		return p.whitelists[i]
	}
	return nil
}

func (w *whitelistInfo) activation(e WhitelistEntry) time.Time { return e.AddedAt.Add(w.delay) }

// whitelistCovered reports whether every entry of a is in b, active no later.
func whitelistCovered(a, b *whitelistInfo) bool {
	if a == nil || len(a.entries) == 0 {
		return true
	}
	if b == nil || a.chain != b.chain {
		return false
	}
	for addr, ea := range a.entries {
		eb, ok := b.entries[addr]
		if !ok || b.activation(eb).After(a.activation(ea)) {
			return false
		}
	}
	return true
}

func whitelistsOverlap(a, b *whitelistInfo) bool {
	if a == nil || b == nil || a.chain != b.chain {
		return false
	}
	if len(a.entries) > len(b.entries) {
		a, b = b, a
	}
	for addr := range a.entries {
		if _, ok := b.entries[addr]; ok {
			return true
		}
	}
	return false
}

func setSubset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func intersects(a, b map[string]bool) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

func setEqual(a, b map[string]bool) bool { return len(a) == len(b) && setSubset(a, b) }

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
