package policy_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

const propertySeed = 20250301

func rng(t *testing.T, salt uint64) *rand.Rand {
	t.Logf("seed %d/%d", propertySeed, salt)
	return rand.New(rand.NewPCG(propertySeed, salt))
}

func randomNow(r *rand.Rand) time.Time {
	return t0.Add(time.Duration(r.IntN(100*60)) * time.Minute)
}

func TestPropertyEvaluationIsDeterministic(t *testing.T) {
	r := rng(t, 1)
	for i := range 300 {
		doc := pt.RandomDoc(r, 8)
		p := mustPolicy(t, doc)
		// The same document with its sets in another order is the same
		// policy: same hash, same decisions.
		p2 := mustPolicy(t, pt.ShuffleDoc(r, doc))
		if p2.Hash() != p.Hash() {
			t.Fatalf("case %d: shuffled document hashes differently", i)
		}
		for range 5 {
			now := randomNow(r)
			req := pt.RandomRequest(r, now)
			snap := pt.RandomSnapshot(r, req, p.RuleIDs(), now)
			st := pt.State(t, snap)
			d1 := policy.Evaluate(p, st, req, now)
			d2 := policy.Evaluate(p, st, req, now)
			d3 := policy.Evaluate(p2, pt.State(t, pt.Shuffle(r, snap)), req, now)
			if !reflect.DeepEqual(d1, d2) || !reflect.DeepEqual(d1, d3) {
				t.Fatalf("case %d: decisions differ:\n%+v\n%+v\n%+v", i, d1, d2, d3)
			}
			if snap2 := pt.State(t, pt.Shuffle(r, snap)).Snapshot(); !reflect.DeepEqual(st.Snapshot(), snap2) {
				t.Fatalf("case %d: snapshot order depends on input order", i)
			}
		}
	}
}

// refMatches is an independent, direct reading of a rule's match over the
// document: the engine's first matching rule must agree with it.
func refMatches(d policy.Document, ru policy.Rule, req policy.Request, snap policy.Snapshot, now time.Time) bool {
	wi := slices.IndexFunc(d.Wallets, func(w policy.Wallet) bool { return w.ID == req.Source })
	src := d.Wallets[wi]
	m := ru.Match
	if (len(m.Source.Wallets) > 0 || len(m.Source.Classes) > 0) &&
		!slices.Contains(m.Source.Wallets, src.ID) && !slices.Contains(m.Source.Classes, src.Class) {
		return false
	}
	if len(m.Assets) > 0 && !slices.Contains(m.Assets, req.Asset) {
		return false
	}
	if m.Amount.Min != nil && req.Amount.Cmp(*m.Amount.Min) < 0 || m.Amount.Max != nil && req.Amount.Cmp(*m.Amount.Max) > 0 {
		return false
	}
	if len(m.InitiatorRoles) > 0 && !slices.Contains(m.InitiatorRoles, req.InitiatorRole) {
		return false
	}
	ds := m.Destination
	anyDest := len(ds.Wallets) == 0 && len(ds.Classes) == 0 && len(ds.Whitelists) == 0 && !ds.External
	for _, w := range d.Wallets {
		if w.Chain == src.Chain && w.Network == src.Network && w.ChainID == src.ChainID && slices.Contains(w.Addresses, req.To) {
			return anyDest || slices.Contains(ds.Wallets, w.ID) || slices.Contains(ds.Classes, w.Class)
		}
	}
	if anyDest || ds.External {
		return true
	}
	for _, wl := range d.Whitelists {
		if wl.Chain != src.Chain || !slices.Contains(ds.Whitelists, wl.ID) {
			continue
		}
		for _, e := range wl.Entries {
			if e.Address != req.To {
				continue
			}
			from := e.AddedAt.Add(wl.ActiveAfter.D())
			for _, a := range snap.WhitelistActivations {
				if a.Whitelist == wl.ID && a.Address == req.To && a.ActiveFrom.After(from) {
					from = a.ActiveFrom
				}
			}
			if !now.Before(from) {
				return true
			}
		}
	}
	return false
}

func TestPropertyNoMatchingRuleDenies(t *testing.T) {
	r := rng(t, 2)
	checked, matched := 0, 0
	for i := range 600 {
		doc := pt.RandomDoc(r, 8)
		p := mustPolicy(t, doc)
		now := randomNow(r)
		req := pt.RandomRequest(r, now)
		snap := pt.RandomSnapshot(r, req, p.RuleIDs(), now)
		snap.Frozen = false
		d := evaluate(t, p, snap, req, now)
		invariantsHeld := slices.Contains(d.Trace, "invariants hold")
		if !invariantsHeld {
			if d.Effect != policy.EffectDeny || d.Rule != "" {
				t.Fatalf("case %d: invariant failure gave %s by %q", i, d.Effect, d.Rule)
			}
			continue
		}
		// The engine's first match agrees with the reference reading.
		first := slices.IndexFunc(doc.Rules, func(ru policy.Rule) bool { return refMatches(doc, ru, req, snap, now) })
		want := ""
		if first >= 0 {
			want = doc.Rules[first].ID
			matched++
		}
		if d.Rule != want {
			t.Fatalf("case %d: engine matched %q, reference %q\n%s", i, d.Rule, want, joinLines(d.Trace))
		}
		// Without the rules that match, the policy denies by default.
		doc.Rules = slices.DeleteFunc(doc.Rules, func(ru policy.Rule) bool { return refMatches(doc, ru, req, snap, now) })
		d = evaluate(t, mustPolicy(t, doc), snap, req, now)
		if d.Effect != policy.EffectDeny || d.Rule != "" {
			t.Fatalf("case %d: no matching rule but %s by %q", i, d.Effect, d.Rule)
		}
		checked++
	}
	t.Logf("%d cases reached the rules, %d of them matched one", checked, matched)
	if checked < 200 || matched < 50 || checked-matched < 50 {
		t.Fatalf("too few cases exercised: %d reached the rules, %d matched", checked, matched)
	}
}

func rank(e policy.Effect) int {
	switch e {
	case policy.EffectAllow:
		return 0
	case policy.EffectPending:
		return 1
	}
	return 2
}

func TestPropertyTighteningNeverAllowsMore(t *testing.T) {
	r := rng(t, 3)
	tightened, compared := map[string]int{}, 0
	for i := range 1500 {
		doc := pt.RandomDoc(r, 8)
		old := mustPolicy(t, doc)
		nd, m, ok := pt.Mutate(r, old.Document())
		if !ok {
			continue
		}
		nd.Version, nd.Parent = 2, old.Hash().String()
		updated, err := policy.New(nd)
		if err != nil {
			continue // the mutation made the document invalid
		}
		c := policy.Classify(old, updated)
		if m.Tightens && c.Kind != policy.Tightening {
			t.Fatalf("case %d: %s classified %s: %v", i, m.Name, c.Kind, c.Reasons)
		}
		if c.Kind != policy.Tightening {
			continue
		}
		tightened[m.Name]++
		for range 20 {
			now := randomNow(r)
			req := pt.RandomRequest(r, now)
			snap := pt.RandomSnapshot(r, req, old.RuleIDs(), now)
			st := pt.State(t, snap)
			before, after := policy.Evaluate(old, st, req, now), policy.Evaluate(updated, st, req, now)
			compared++
			if rank(after.Effect) < rank(before.Effect) {
				t.Fatalf("case %d: %s (tightening) turned %s into %s\nbefore:\n  %s\nafter:\n  %s", i, m.Name,
					before.Effect, after.Effect, joinLines(before.Trace), joinLines(after.Trace))
			}
		}
	}
	t.Logf("tightening changes checked: %v; %d evaluations compared", tightened, compared)
	for _, m := range pt.Mutations {
		if m.Tightens && tightened[m.Name] == 0 {
			t.Errorf("mutation %s never produced a valid tightening", m.Name)
		}
	}
}
