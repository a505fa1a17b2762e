package policy_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// history starts a history at the fixture's policy, signed by ada and bob.
func history(t *testing.T, f *pt.Fixture) (*policy.History, *policy.Policy) {
	t.Helper()
	p := f.Policy(t)
	h, err := policy.NewHistory(p, sign(f, p, "ada", "bob"), t0.Add(-100*time.Hour))
	if err != nil {
		t.Fatalf("NewHistory: %v", err)
	}
	return h, p
}

func sign(f *pt.Fixture, p *policy.Policy, admins ...string) []policy.PolicySignature {
	var sigs []policy.PolicySignature
	for _, a := range admins {
		sigs = append(sigs, f.Admins[a].SignPolicy(p.Hash()))
	}
	return sigs
}

// next returns a copy of f whose document is the next version after parent.
func next(f *pt.Fixture, parent *policy.Policy) *pt.Fixture {
	g := *f
	g.Doc = parent.Document()
	g.Doc.Version = parent.Version() + 1
	g.Doc.Parent = parent.Hash().String()
	return &g
}

func TestAttackLoosenBeforeDelay(t *testing.T) {
	f := pt.New()
	h, p1 := history(t, f)
	// v2 whitelists a new address with a backdated added_at: loosening.
	g := next(f, p1)
	g.Doc.Whitelists[0].Entries = append(g.Doc.Whitelists[0].Entries, policy.WhitelistEntry{Address: pt.BTCStranger, Label: "new", AddedAt: t0.Add(-1000 * time.Hour)})
	p2 := g.Policy(t)
	v, err := h.Submit(p2, sign(f, p2, "ada", "cy"), t0)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if v.Change.Kind != policy.Loosening || !v.EffectiveAt.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("change %+v effective %v", v.Change, v.EffectiveAt)
	}
	req := pt.BTC("new-dest", "btc-hot", pt.BTCStranger, 1000, t0)
	early := t0.Add(48*time.Hour - time.Nanosecond)
	if h.Active(early) != p1 {
		t.Fatal("loosening active before its delay")
	}
	expect(t, evaluate(t, h.Active(early), policy.Snapshot{}, req, early), policy.EffectDeny, "")
	late := t0.Add(48 * time.Hour)
	expect(t, evaluate(t, h.Active(late), policy.Snapshot{}, req, late), policy.EffectAllow, "withdraw-btc")

	// A tightening built on top of the pending loosening is still compared
	// with the active version, so it cannot smuggle the new entry in early.
	g3 := next(f, p2)
	rule(t, &g3.Doc, "withdraw-btc").Limits[0].MaxCount = 4
	p3 := g3.Policy(t)
	v3, err := h.Submit(p3, sign(f, p3, "ada", "bob"), t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Submit v3: %v", err)
	}
	if v3.Change.Kind != policy.Loosening {
		t.Fatalf("v3 change %+v, want loosening against the active v1", v3.Change)
	}
	expect(t, evaluate(t, h.Active(t0.Add(2*time.Hour)), policy.Snapshot{}, req, t0.Add(2*time.Hour)), policy.EffectDeny, "")
}

func TestTighteningTakesEffectAtOnce(t *testing.T) {
	f := pt.New()
	h, p1 := history(t, f)
	g := next(f, p1)
	rule(t, &g.Doc, "sweep-btc").Limits[0].MaxAmount = amt("1000")
	p2 := g.Policy(t)
	v, err := h.Submit(p2, sign(f, p2, "bob", "cy"), t0)
	if err != nil || v.Change.Kind != policy.Tightening || !v.EffectiveAt.Equal(t0) {
		t.Fatalf("Submit = %+v, %v", v, err)
	}
	req := pt.BTC("s", "btc-hot", pt.BTCCold, 2000, t0)
	expect(t, evaluate(t, h.Active(t0.Add(-time.Nanosecond)), policy.Snapshot{}, req, t0), policy.EffectAllow, "sweep-btc")
	expect(t, evaluate(t, h.Active(t0), policy.Snapshot{}, req, t0), policy.EffectDeny, "sweep-btc")
}

func TestAttackPolicyRollback(t *testing.T) {
	f := pt.New()
	h, p1 := history(t, f)
	g2 := next(f, p1)
	rule(t, &g2.Doc, "sweep-btc").Limits[0].MaxCount = 4
	p2 := g2.Policy(t)
	if _, err := h.Submit(p2, sign(f, p2, "ada", "bob"), t0); err != nil {
		t.Fatal(err)
	}
	g3 := next(f, p2)
	rule(t, &g3.Doc, "sweep-btc").Limits[0].MaxCount = 3
	p3 := g3.Policy(t)
	if _, err := h.Submit(p3, sign(f, p3, "ada", "bob"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Re-submitting an old version, even fully signed, is refused.
	for _, old := range []*policy.Policy{p1, p2} {
		if _, err := h.Submit(old, sign(f, old, "ada", "bob", "cy"), t0.Add(2*time.Hour)); !errors.Is(err, policy.ErrRollback) {
			t.Errorf("Submit(v%d) = %v, want ErrRollback", old.Version(), err)
		}
	}
	// So is new content with a version number not above the head's.
	g := next(f, p3)
	g.Doc.Version = 3
	rule(t, &g.Doc, "sweep-btc").Limits[0].MaxCount = 5
	stale := g.Policy(t)
	if _, err := h.Submit(stale, sign(f, stale, "ada", "bob"), t0.Add(2*time.Hour)); !errors.Is(err, policy.ErrRollback) {
		t.Errorf("Submit(version 3 again) = %v, want ErrRollback", err)
	}
	// And a version 4 forked from v2 (naming an older parent).
	fork := next(f, p2)
	fork.Doc.Version = 4
	pf := fork.Policy(t)
	if _, err := h.Submit(pf, sign(f, pf, "ada", "bob"), t0.Add(2*time.Hour)); !errors.Is(err, policy.ErrParentMismatch) {
		t.Errorf("Submit(fork of v2) = %v, want ErrParentMismatch", err)
	}
	if h.Active(t0.Add(3*time.Hour)) != p3 || len(h.Versions()) != 3 {
		t.Fatal("history changed by refused submissions")
	}
}

func TestAttackChangeSignedByTooFewAdmins(t *testing.T) {
	f := pt.New()
	h, p1 := history(t, f)
	g := next(f, p1)
	rule(t, &g.Doc, "sweep-btc").Limits[0].MaxCount = 4
	p2 := g.Policy(t)
	// The v2 document also makes the attacker an admin: its own admin list
	// does not count, the active version's does.
	mallory := pt.Ed25519Key("mallory")
	mallory.ID = "mallory"
	g.Doc.Admins.Members = append(g.Doc.Admins.Members, policy.Admin{ID: "mallory", Key: mallory.Public.String()})
	g.Doc.Admins.Quorum = 1
	p2m := g.Policy(t)
	forged := f.Admins["bob"]
	forged.Signer = mallory.Signer // bob's name, mallory's key
	for name, tc := range map[string]struct {
		p    *policy.Policy
		sigs []policy.PolicySignature
	}{
		"one admin":                       {p2, sign(f, p2, "ada")},
		"one admin twice":                 {p2, append(sign(f, p2, "ada"), sign(f, p2, "ada")...)},
		"an admin and a forged admin":     {p2, append(sign(f, p2, "ada"), forged.SignPolicy(p2.Hash()))},
		"an admin over another hash":      {p2, append(sign(f, p2, "ada"), f.Admins["bob"].SignPolicy(p1.Hash()))},
		"admins named by the new version": {p2m, append(sign(f, p2m, "ada"), mallory.SignPolicy(p2m.Hash()))},
	} {
		if _, err := h.Submit(tc.p, tc.sigs, t0); !errors.Is(err, policy.ErrQuorumNotMet) {
			t.Errorf("%s: Submit = %v, want ErrQuorumNotMet", name, err)
		}
	}
	if len(h.Versions()) != 1 {
		t.Fatal("history changed by refused submissions")
	}
	if _, err := h.Submit(p2, sign(f, p2, "ada", "cy"), t0); err != nil {
		t.Fatalf("control: Submit = %v", err)
	}
}

func TestFreezeAndUnfreeze(t *testing.T) {
	f := pt.New()
	h, p := history(t, f)
	req := pt.BTC("s", "btc-hot", pt.BTCCold, 1000, t0)
	freeze := func(admin string) policy.AdminSignature {
		return policy.AdminSignature{Admin: admin, Signature: f.Admins[admin].Sign(policy.FreezeMessage(h.FreezeEpoch()))}
	}
	unfreeze := func(admin string) policy.AdminSignature {
		return policy.AdminSignature{Admin: admin, Signature: f.Admins[admin].Sign(policy.UnfreezeMessage(h.FreezeEpoch()))}
	}
	// A non-admin (an officer key) cannot freeze.
	bad := policy.AdminSignature{Admin: "tom", Signature: f.Officers["tom"].Sign(policy.FreezeMessage(h.FreezeEpoch()))}
	if err := h.Freeze(bad, t0); !errors.Is(err, policy.ErrUnknownAdmin) || h.Frozen() {
		t.Fatalf("Freeze(officer) = %v", err)
	}
	if err := h.Freeze(freeze("cy"), t0); err != nil || !h.Frozen() {
		t.Fatalf("Freeze = %v", err)
	}
	st := pt.State(t, policy.Snapshot{}).WithFrozen(h.Frozen())
	if d := policy.Evaluate(p, st, req, t0); d.Effect != policy.EffectDeny {
		t.Fatalf("frozen: %s", d.Effect)
	}
	// One admin cannot unfreeze; neither can a quorum's signatures over an
	// older epoch.
	if err := h.Unfreeze([]policy.AdminSignature{unfreeze("ada")}, t0); !errors.Is(err, policy.ErrQuorumNotMet) || !h.Frozen() {
		t.Fatalf("Unfreeze(1 admin) = %v", err)
	}
	stale := []policy.AdminSignature{
		{Admin: "ada", Signature: f.Admins["ada"].Sign(policy.UnfreezeMessage(h.FreezeEpoch() - 1))},
		{Admin: "bob", Signature: f.Admins["bob"].Sign(policy.UnfreezeMessage(h.FreezeEpoch() - 1))},
	}
	if err := h.Unfreeze(stale, t0); !errors.Is(err, policy.ErrQuorumNotMet) || !h.Frozen() {
		t.Fatalf("Unfreeze(stale epoch) = %v", err)
	}
	if err := h.Unfreeze([]policy.AdminSignature{unfreeze("ada"), unfreeze("bob")}, t0); err != nil || h.Frozen() {
		t.Fatalf("Unfreeze = %v", err)
	}
	if err := h.Unfreeze([]policy.AdminSignature{unfreeze("ada"), unfreeze("bob")}, t0); !errors.Is(err, policy.ErrNotFrozen) {
		t.Fatalf("Unfreeze(not frozen) = %v", err)
	}
	if d := policy.Evaluate(p, st.WithFrozen(h.Frozen()), req, t0); d.Effect != policy.EffectAllow {
		t.Fatalf("unfrozen: %s", d.Effect)
	}
}

func TestGenesisNeedsQuorumOfItsAdmins(t *testing.T) {
	f := pt.New()
	p := f.Policy(t)
	if _, err := policy.NewHistory(p, sign(f, p, "ada"), t0); !errors.Is(err, policy.ErrQuorumNotMet) {
		t.Fatalf("NewHistory(1 signature) = %v", err)
	}
	g := next(f, p)
	p2 := g.Policy(t)
	if _, err := policy.NewHistory(p2, sign(f, p2, "ada", "bob"), t0); !errors.Is(err, policy.ErrParentMismatch) {
		t.Fatalf("NewHistory(with parent) = %v", err)
	}
}

func TestVerifyPolicySignature(t *testing.T) {
	f := pt.New()
	p := f.Policy(t)
	sig := f.Admins["cy"].SignPolicy(p.Hash())
	b, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	back, err := policy.DecodePolicySignatureJSON(b)
	if err != nil {
		t.Fatalf("DecodePolicySignatureJSON: %v", err)
	}
	if err := p.VerifyPolicySignature(back); err != nil {
		t.Fatalf("VerifyPolicySignature = %v", err)
	}
	tampered := back
	tampered.PolicyHash[0] ^= 1
	if err := p.VerifyPolicySignature(tampered); !errors.Is(err, policy.ErrBadSignature) {
		t.Fatalf("VerifyPolicySignature(other hash) = %v", err)
	}
	renamed := back
	renamed.Admin = "ada"
	if err := p.VerifyPolicySignature(renamed); !errors.Is(err, policy.ErrBadSignature) {
		t.Fatalf("VerifyPolicySignature(other admin) = %v", err)
	}
	renamed.Admin = "tom"
	if err := p.VerifyPolicySignature(renamed); !errors.Is(err, policy.ErrUnknownAdmin) {
		t.Fatalf("VerifyPolicySignature(officer) = %v", err)
	}
}
