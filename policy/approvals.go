package policy

import (
	"slices"
	"strconv"
	"time"
)

type approvalSet struct {
	approvers []string // valid approving officers, sorted
	vetoBy    string
}

// collectApprovals filters the state's approvals over this request's digest
// (approvals over any other digest are never looked at): unknown officers,
// the initiator, approvals stamped in the future or older than the TTL, and
// duplicates do not count; an officer who also rejected does not count; a
// reject from a member of one of r's veto groups vetoes.
func (ev *evaluation) collectApprovals(r *rule) approvalSet {
	var set approvalSet
	list := ev.st.byDigest[ev.req.Digest] // sorted by officer, time, verdict
	ttl := ev.p.doc.ApprovalTTL.D()
	for i := 0; i < len(list); {
		officer := list[i].Officer
		j := i
		for j < len(list) && list[j].Officer == officer {
			j++
		}
		ev.officerVerdicts(r, list[i:j], ttl, &set)
		i = j
	}
	return set
}

// officerVerdicts handles one officer's records (sorted by time).
func (ev *evaluation) officerVerdicts(r *rule, recs []Approval, ttl time.Duration, set *approvalSet) {
	officer := recs[0].Officer
	if _, ok := ev.p.officers[officer]; !ok {
		ev.trace("ignore " + strconv.Itoa(len(recs)) + " verdict(s) by " + strconv.Quote(officer) + ": not an officer")
		return
	}
	who := "officer " + officer
	rejected, counted := false, false
	for _, a := range recs {
		if a.Verdict == VerdictReject {
			rejected = true
			for _, g := range r.r.VetoGroups {
				if set.vetoBy == "" && ev.p.isMember(officer, g) {
					set.vetoBy = who + " of veto group " + g
				}
			}
			ev.trace("reject by " + who)
			continue
		}
		switch {
		case officer == ev.req.Initiator:
			ev.trace("ignore approval by " + who + ": the initiator cannot approve its own request")
		case a.At.After(ev.now):
			ev.trace("ignore approval by " + who + ": stamped in the future at " + a.At.Format(time.RFC3339Nano))
		case !ev.now.Before(a.At.Add(ttl)):
			ev.trace("ignore approval by " + who + ": expired at " + a.At.Add(ttl).Format(time.RFC3339Nano))
		case counted:
			ev.trace("ignore approval by " + who + ": duplicate, an officer counts once")
		default:
			counted = true
		}
	}
	switch {
	case counted && rejected:
		ev.trace("ignore approval by " + who + ": the officer also rejected")
	case counted:
		set.approvers = append(set.approvers, officer) // officers come sorted
	}
}

// approvalsMet assigns approvers to r's terms (each officer to one slot)
// and reports whether the terms are met, which officers were used and,
// if not met, what is missing.
func (r *rule) approvalsMet(p *Policy, approvers []string) (bool, []string, []Missing) {
	all, any := r.r.Approvals.AllOf, r.r.Approvals.AnyOf
	slots, _ := slotsOf(all)
	base := assign(approvers, slots, p.isMember)
	if len(any) == 0 && base.size == len(slots) {
		return true, usedOfficers(approvers, base), nil
	}
	for _, t := range any {
		s, _ := slotsOf(append(slices.Clone(all), t))
		if a := assign(approvers, s, p.isMember); a.size == len(s) {
			return true, usedOfficers(approvers, a), nil
		}
	}
	var missing []Missing
	have := perTerm(all, base)
	for i, t := range all {
		if have[i] < t.K {
			missing = append(missing, Missing{Kind: MissingApproval, Group: t.Group, Need: t.K, Have: have[i],
				Text: "approvals from " + t.Group + ": " + strconv.Itoa(have[i]) + " of " + strconv.Itoa(t.K)})
		}
	}
	for _, t := range any {
		terms := append(slices.Clone(all), t)
		s, _ := slotsOf(terms)
		h := perTerm(terms, assign(approvers, s, p.isMember))[len(all)]
		missing = append(missing, Missing{Kind: MissingApproval, Group: t.Group, Need: t.K, Have: h, AnyOf: true,
			Text: "any_of alternative, approvals from " + t.Group + ": " + strconv.Itoa(h) + " of " + strconv.Itoa(t.K)})
	}
	return false, usedOfficers(approvers, base), missing
}

func perTerm(terms []Term, a assignment) []int {
	_, termOf := slotsOf(terms)
	have := make([]int, len(terms))
	for s, o := range a.slotOfficer {
		if o >= 0 {
			have[termOf[s]]++
		}
	}
	return have
}

func usedOfficers(officers []string, a assignment) []string {
	var out []string
	for _, o := range a.slotOfficer {
		if o >= 0 {
			out = append(out, officers[o])
		}
	}
	slices.Sort(out)
	return out
}

// inTermGroup reports whether officer is in the group of any of r's terms.
func (r *rule) inTermGroup(p *Policy, officer string) bool {
	for _, terms := range [][]Term{r.r.Approvals.AllOf, r.r.Approvals.AnyOf} {
		for _, t := range terms {
			if p.isMember(officer, t.Group) {
				return true
			}
		}
	}
	return false
}
