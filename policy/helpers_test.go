package policy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

func amt(s string) *policy.Amount {
	a := policy.MustAmount(s)
	return &a
}

func hours(n int) policy.Duration { return policy.Duration(time.Duration(n) * time.Hour) }

// rule returns the rule with id in d, or fails.
func rule(t testing.TB, d *policy.Document, id string) *policy.Rule {
	t.Helper()
	i := slices.IndexFunc(d.Rules, func(r policy.Rule) bool { return r.ID == id })
	if i < 0 {
		t.Fatalf("no rule %q", id)
	}
	return &d.Rules[i]
}

// group returns the group with id in d, or fails.
func group(t testing.TB, d *policy.Document, id string) *policy.Group {
	t.Helper()
	i := slices.IndexFunc(d.Groups, func(g policy.Group) bool { return g.ID == id })
	if i < 0 {
		t.Fatalf("no group %q", id)
	}
	return &d.Groups[i]
}

func removeRule(t testing.TB, d *policy.Document, id string) {
	t.Helper()
	n := len(d.Rules)
	d.Rules = slices.DeleteFunc(d.Rules, func(r policy.Rule) bool { return r.ID == id })
	if len(d.Rules) == n {
		t.Fatalf("no rule %q", id)
	}
}

func insertRule(d *policy.Document, at int, r policy.Rule) {
	d.Rules = slices.Insert(d.Rules, at, r)
}

func mustPolicy(t testing.TB, d policy.Document) *policy.Policy {
	t.Helper()
	p, err := policy.New(d)
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	return p
}

func evaluate(t testing.TB, p *policy.Policy, snap policy.Snapshot, req policy.Request, now time.Time) policy.Decision {
	t.Helper()
	return policy.Evaluate(p, pt.State(t, snap), req, now)
}

func expect(t testing.TB, d policy.Decision, effect policy.Effect, rule string) {
	t.Helper()
	if d.Effect != effect || d.Rule != rule {
		t.Fatalf("decision %s by rule %q, want %s by rule %q; reason %q\ntrace:\n  %s",
			d.Effect, d.Rule, effect, rule, d.Reason, joinLines(d.Trace))
	}
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}
