package policytest

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cofferhq/coffer/policy"
)

// A Mutation changes a document in place and reports whether it applied.
type Mutation struct {
	Name string
	// Tightens is true when the change can never turn a deny or pending
	// decision into allow, and the classifier must see it as tightening.
	Tightens bool
	Apply    func(r *rand.Rand, d *policy.Document) bool
}

func nonDeny(d *policy.Document) []int {
	var out []int
	for i, ru := range d.Rules {
		if ru.Action != policy.ActionDeny {
			out = append(out, i)
		}
	}
	return out
}

func withRule(r *rand.Rand, d *policy.Document, only func(policy.Rule) bool, f func(ru *policy.Rule) bool) bool {
	var idx []int
	for i, ru := range d.Rules {
		if only(ru) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return false
	}
	return f(&d.Rules[pick(r, idx)])
}

func hasLimits(ru policy.Rule) bool  { return len(ru.Limits) > 0 }
func isApproval(ru policy.Rule) bool { return ru.Action == policy.ActionRequireApproval }
func isNotDeny(ru policy.Rule) bool  { return ru.Action != policy.ActionDeny }
func anyRule(policy.Rule) bool       { return true }
func cloneLimits(ru *policy.Rule)    { ru.Limits = slices.Clone(ru.Limits) }
func cloneApprovals(ru *policy.Rule) {
	ru.Approvals.AllOf = slices.Clone(ru.Approvals.AllOf)
	ru.Approvals.AnyOf = slices.Clone(ru.Approvals.AnyOf)
}

// Mutations lists tightening and loosening changes for property tests.
var Mutations = slices.Concat(coreMutations, feeMutations)

// coreMutations change rules, approvals, whitelists and the absolute
// invariants; feeMutations (mutate_fees.go) the fee bounds.
var coreMutations = []Mutation{
	{"lower-limit", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, hasLimits, func(ru *policy.Rule) bool {
			cloneLimits(ru)
			l := &ru.Limits[r.IntN(len(ru.Limits))]
			if l.MaxCount > 1 {
				l.MaxCount--
			}
			if l.MaxAmount != nil {
				l.MaxAmount = amountPtr(1 + l.MaxAmount.Big().Uint64()/2)
			}
			return true
		})
	}},
	{"longer-window", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, hasLimits, func(ru *policy.Rule) bool {
			cloneLimits(ru)
			ru.Limits[r.IntN(len(ru.Limits))].Window *= 2
			return true
		})
	}},
	{"add-count-limit", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, isNotDeny, func(ru *policy.Rule) bool {
			ru.Limits = append(slices.Clone(ru.Limits), policy.Limit{Scope: pick(r, scopes), Window: policy.Duration(pick(r, windows)), MaxCount: 1 + r.IntN(3)})
			return true
		})
	}},
	{"raise-k", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, isApproval, func(ru *policy.Rule) bool {
			cloneApprovals(ru)
			if len(ru.Approvals.AllOf) > 0 {
				ru.Approvals.AllOf[r.IntN(len(ru.Approvals.AllOf))].K++
			} else {
				ru.Approvals.AnyOf[r.IntN(len(ru.Approvals.AnyOf))].K++
			}
			return true
		})
	}},
	{"add-all-of-term", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, isApproval, func(ru *policy.Rule) bool {
			cloneApprovals(ru)
			ru.Approvals.AllOf = append(ru.Approvals.AllOf, policy.Term{Group: pick(r, groups), K: 1})
			return true
		})
	}},
	{"drop-one-of-several-any-of", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, func(ru policy.Rule) bool { return len(ru.Approvals.AnyOf) > 1 }, func(ru *policy.Rule) bool {
			cloneApprovals(ru)
			i := r.IntN(len(ru.Approvals.AnyOf))
			ru.Approvals.AnyOf = slices.Delete(ru.Approvals.AnyOf, i, i+1)
			return true
		})
	}},
	{"longer-timelock", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, isNotDeny, func(ru *policy.Rule) bool {
			ru.Timelock += policy.Duration(pick(r, windows))
			return true
		})
	}},
	{"add-veto-group", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, isNotDeny, func(ru *policy.Rule) bool {
			ru.VetoGroups = append(slices.Clone(ru.VetoGroups), pick(r, groups))
			slices.Sort(ru.VetoGroups)
			ru.VetoGroups = slices.Compact(ru.VetoGroups)
			return true
		})
	}},
	{"stricter-action", true, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, isNotDeny, func(ru *policy.Rule) bool {
			if ru.Action == policy.ActionAllow && r.IntN(2) == 0 {
				ru.Action = policy.ActionRequireApproval
				ru.Approvals = policy.Approvals{AllOf: []policy.Term{{Group: pick(r, groups), K: 1}}}
				return true
			}
			ru.Action, ru.Approvals, ru.Limits, ru.Timelock, ru.VetoGroups = policy.ActionDeny, policy.Approvals{}, nil, 0, nil
			return true
		})
	}},
	{"insert-deny-rule", true, func(r *rand.Rand, d *policy.Document) bool {
		ru := RandomRule(r, "deny"+strconv.Itoa(r.IntN(1000)))
		ru.Action, ru.Approvals, ru.Limits, ru.Timelock, ru.VetoGroups = policy.ActionDeny, policy.Approvals{}, nil, 0, nil
		d.Rules = slices.Insert(slices.Clone(d.Rules), r.IntN(len(d.Rules)+1), ru)
		return true
	}},
	{"shorter-approval-ttl", true, func(r *rand.Rand, d *policy.Document) bool {
		d.ApprovalTTL = policy.Duration(time.Duration(1+r.IntN(23)) * time.Hour)
		return true
	}},
	{"lower-fee-cap", true, func(r *rand.Rand, d *policy.Document) bool {
		d.Invariants.FeeCaps = slices.Clone(d.Invariants.FeeCaps)
		d.Invariants.FeeCaps[0].MaxFee = policy.AmountFromUint64(uint64(r.IntN(10000)))
		return true
	}},
	// Changes the classifier decides case by case.
	{"remove-whitelist-entry", false, func(r *rand.Rand, d *policy.Document) bool {
		d.Whitelists = slices.Clone(d.Whitelists)
		wl := &d.Whitelists[r.IntN(len(d.Whitelists))]
		if len(wl.Entries) == 0 {
			return false
		}
		i := r.IntN(len(wl.Entries))
		wl.Entries = slices.Delete(slices.Clone(wl.Entries), i, i+1)
		return true
	}},
	{"remove-rule", false, func(r *rand.Rand, d *policy.Document) bool {
		if len(d.Rules) == 0 {
			return false
		}
		i := r.IntN(len(d.Rules))
		d.Rules = slices.Delete(slices.Clone(d.Rules), i, i+1)
		return true
	}},
	{"narrow-roles", false, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, anyRule, func(ru *policy.Rule) bool {
			ru.Match.InitiatorRoles = []string{pick(r, roles)}
			return true
		})
	}},
	{"officer-leaves-group", false, func(r *rand.Rand, d *policy.Document) bool {
		d.Officers = slices.Clone(d.Officers)
		o := &d.Officers[r.IntN(len(d.Officers))]
		if len(o.Groups) == 0 {
			return false
		}
		o.Groups = o.Groups[1:]
		return true
	}},
	{"replace-rule", false, func(r *rand.Rand, d *policy.Document) bool {
		if len(d.Rules) == 0 {
			return false
		}
		d.Rules = slices.Clone(d.Rules)
		i := r.IntN(len(d.Rules))
		d.Rules[i] = RandomRule(r, d.Rules[i].ID)
		return true
	}},
	{"insert-random-rule", false, func(r *rand.Rand, d *policy.Document) bool {
		d.Rules = slices.Insert(slices.Clone(d.Rules), r.IntN(len(d.Rules)+1), RandomRule(r, "new"+strconv.Itoa(r.IntN(1000))))
		return true
	}},
	{"raise-limit", false, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, hasLimits, func(ru *policy.Rule) bool {
			cloneLimits(ru)
			l := &ru.Limits[r.IntN(len(ru.Limits))]
			l.MaxCount++
			if l.MaxAmount != nil {
				l.MaxAmount = amountPtr(l.MaxAmount.Big().Uint64() * 2)
			}
			return true
		})
	}},
	{"lower-k", false, func(r *rand.Rand, d *policy.Document) bool {
		return withRule(r, d, func(ru policy.Rule) bool { return isApproval(ru) && len(ru.Approvals.AllOf) > 0 }, func(ru *policy.Rule) bool {
			cloneApprovals(ru)
			ru.Approvals.AllOf = ru.Approvals.AllOf[1:]
			if len(ru.Approvals.AllOf)+len(ru.Approvals.AnyOf) == 0 {
				ru.Approvals.AnyOf = []policy.Term{{Group: pick(r, groups), K: 1}}
			}
			return true
		})
	}},
	{"officer-joins-group", false, func(r *rand.Rand, d *policy.Document) bool {
		d.Officers = slices.Clone(d.Officers)
		o := &d.Officers[r.IntN(len(d.Officers))]
		g := pick(r, groups)
		if slices.Contains(o.Groups, g) {
			return false
		}
		o.Groups = append(slices.Clone(o.Groups), g)
		return true
	}},
	{"whitelist-entry-added", false, func(r *rand.Rand, d *policy.Document) bool {
		d.Whitelists = slices.Clone(d.Whitelists)
		d.Whitelists[0].Entries = append(slices.Clone(d.Whitelists[0].Entries), policy.WhitelistEntry{Address: BTCStranger, Label: "s", AddedAt: T0.Add(-1000 * time.Hour)})
		return true
	}},
}

// Mutate applies a random mutation to a copy of d and returns it with the
// mutation; ok is false if the mutation did not apply.
func Mutate(r *rand.Rand, d policy.Document) (policy.Document, Mutation, bool) {
	m := pick(r, Mutations)
	d.Rules = slices.Clone(d.Rules)
	ok := m.Apply(r, &d)
	return d, m, ok
}
