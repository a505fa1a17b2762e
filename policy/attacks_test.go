package policy_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// Each attack below must be denied (or refused); each test also checks the
// legitimate neighbour of the attack succeeds, so it cannot pass vacuously.

func TestAttackSplitTransferPastVelocityLimit(t *testing.T) {
	p := pt.New().Policy(t)
	// withdraw-btc: source btc-hot ≤ 2 BTC and ≤ 5 transfers per hour, ≤ 5 BTC per day.
	// Source windows of BTC count what leaves btc-hot: amount + fee (5000 sat).
	const fee = 5000
	run := func(chunk uint64, every time.Duration, n int) (allowed int, total uint64) {
		var spends []policy.Spend
		for i := range n {
			now := t0.Add(time.Duration(i) * every)
			req := pt.BTC("split", "btc-hot", pt.BTCKraken, chunk, now)
			req.Digest = pt.Digest(now.String())
			d := evaluate(t, p, policy.Snapshot{Spends: spends}, req, now)
			if d.Effect == policy.EffectAllow {
				allowed++
				total += chunk + fee
				spends = append(spends, policy.Spend{At: now, Source: "btc-hot", To: pt.BTCKraken, Rule: d.Rule, Asset: "BTC",
					Amount: policy.AmountFromUint64(chunk), Fee: req.Fee})
			} else if d.Effect != policy.EffectDeny || d.Rule != "withdraw-btc" {
				t.Fatalf("chunk %d: %s by %q: %s", i, d.Effect, d.Rule, d.Reason)
			}
		}
		return allowed, total
	}
	// 3 BTC in 0.5 BTC pieces (fee included) within an hour: 4 pass (2 BTC), the rest are denied.
	if allowed, total := run(50_000_000-fee, time.Minute, 6); allowed != 4 || total != 200_000_000 {
		t.Errorf("0.5 BTC pieces: %d allowed, %d sat; want 4, 200000000", allowed, total)
	}
	// The same pieces without room for their fees: the fees push the 4th over.
	if allowed, total := run(50_000_000, time.Minute, 6); allowed != 3 || total != 150_015_000 {
		t.Errorf("0.5 BTC pieces plus fees: %d allowed, %d sat; want 3, 150015000", allowed, total)
	}
	// Many dust pieces: the count limit stops them at 5 per hour.
	if allowed, _ := run(1000, time.Second, 50); allowed != 5 {
		t.Errorf("dust pieces: %d allowed, want 5", allowed)
	}
	// 1 BTC every 31 minutes for (just under) a day stays under the hourly
	// limit but the daily 5 BTC limit holds.
	if allowed, total := run(100_000_000-fee, 31*time.Minute, 46); total > 500_000_000 || allowed != 5 {
		t.Errorf("spread over a day: %d allowed, %d sat; want at most 5 BTC", allowed, total)
	}
}

func TestAttackSpendAtWindowEdge(t *testing.T) {
	p := pt.New().Policy(t)
	req := pt.BTC("edge", "btc-hot", pt.BTCKraken, 1, t0)
	// 2 BTC spent exactly one hour before now still counts (the window is
	// inclusive), so one more satoshi is over the hourly 2 BTC.
	atEdge := policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-time.Hour), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "200000000")}}
	expect(t, evaluate(t, p, atEdge, req, t0), policy.EffectDeny, "withdraw-btc")
	// One nanosecond earlier it has left the window.
	outside := policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-time.Hour-time.Nanosecond), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "200000000")}}
	expect(t, evaluate(t, p, outside, req, t0), policy.EffectAllow, "withdraw-btc")
	// A spend stamped after now (another node's clock ahead) counts too.
	ahead := policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(time.Minute), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "200000000")}}
	expect(t, evaluate(t, p, ahead, req, t0), policy.EffectDeny, "withdraw-btc")
}

func TestAttackWhitelistBeforeActivation(t *testing.T) {
	p := pt.New().Policy(t)
	// BTCLate was added at T0-1h with a 72h delay: active from T0+71h.
	active := t0.Add(71 * time.Hour)
	for _, now := range []time.Time{t0, active.Add(-time.Nanosecond)} {
		req := pt.BTC("late", "btc-hot", pt.BTCLate, 1000, now)
		expect(t, evaluate(t, p, policy.Snapshot{}, req, now), policy.EffectDeny, "")
	}
	expect(t, evaluate(t, p, policy.Snapshot{}, pt.BTC("late", "btc-hot", pt.BTCLate, 1000, active), active), policy.EffectAllow, "withdraw-btc")

	// A backdated added_at does not help when the ledger recorded a later
	// activation.
	snap := policy.Snapshot{WhitelistActivations: []policy.WhitelistActivation{{Whitelist: "btc-exchanges", Address: pt.BTCKraken, ActiveFrom: t0.Add(time.Hour)}}}
	expect(t, evaluate(t, p, snap, pt.BTC("k", "btc-hot", pt.BTCKraken, 1000, t0), t0), policy.EffectDeny, "")
	expect(t, evaluate(t, p, snap, pt.BTC("k", "btc-hot", pt.BTCKraken, 1000, t0), t0.Add(time.Hour)), policy.EffectAllow, "withdraw-btc")
}

func TestAttackColdToExternal(t *testing.T) {
	f := pt.New()
	p := f.Policy(t)
	for _, to := range []string{pt.BTCKraken, pt.BTCStranger} {
		req := pt.BTC("cold-out", "btc-cold", to, 1000, t0)
		var approvals []policy.Approval
		for id := range f.Officers {
			approvals = append(approvals, pt.Approve(id, req.Digest, t0))
		}
		d := evaluate(t, p, policy.Snapshot{Approvals: approvals}, req, t0.Add(100*time.Hour))
		expect(t, d, policy.EffectDeny, "")
	}
	// The legitimate cold → pinned hot refill is not denied.
	req := pt.BTC("refill", "btc-cold", pt.BTCHot, 1000, t0)
	expect(t, evaluate(t, p, policy.Snapshot{}, req, t0), policy.EffectPending, "refill")
	// And a policy whose rules would let cold pay outside is refused.
	insertRule(&f.Doc, 0, policy.Rule{ID: "cold-out", Action: policy.ActionAllow, Match: policy.Match{
		Source: policy.SourceSelector{Wallets: []string{"btc-cold"}}, Destination: policy.DestSelector{Whitelists: []string{"btc-exchanges"}}}})
	if err := f.Doc.Validate(); !errors.Is(err, policy.ErrColdEscape) {
		t.Fatalf("Validate = %v, want ErrColdEscape", err)
	}
}

func TestAttackSAFUOutflowMissingRiskOrTimelock(t *testing.T) {
	p := pt.New().Policy(t)
	req := pt.BTC("safu", "btc-safu", pt.BTCHot, 100_000_000, t0)
	treasury := []policy.Approval{
		pt.Approve("tom", req.Digest, t0.Add(70*time.Hour)), pt.Approve("tina", req.Digest, t0.Add(70*time.Hour)),
		pt.Approve("theo", req.Digest, t0.Add(70*time.Hour)),
	}
	withRisk := append([]policy.Approval{pt.Approve("raj", req.Digest, t0.Add(70*time.Hour))}, treasury...)
	after := t0.Add(73 * time.Hour)
	// Three treasury approvals, no risk: pending on the risk group.
	d := evaluate(t, p, policy.Snapshot{Approvals: treasury}, req, after)
	expect(t, d, policy.EffectPending, "safu-out")
	if len(d.Missing) != 1 || d.Missing[0].Group != "risk" {
		t.Errorf("missing %+v, want the risk group", d.Missing)
	}
	// Everyone approved but the 72h timelock is still running.
	d = evaluate(t, p, policy.Snapshot{Approvals: withRisk}, req, t0.Add(72*time.Hour-time.Second))
	expect(t, d, policy.EffectPending, "safu-out")
	if !d.NotBefore.Equal(t0.Add(72 * time.Hour)) {
		t.Errorf("not before %v", d.NotBefore)
	}
	// Control: both conditions met.
	expect(t, evaluate(t, p, policy.Snapshot{Approvals: withRisk}, req, after), policy.EffectAllow, "safu-out")
}

func TestAttackReplayedApprovalFromAnotherRequest(t *testing.T) {
	f := pt.New()
	p := f.Policy(t)
	old := pt.BTC("refill-old", "btc-cold", pt.BTCHot, 1000, t0)
	req := pt.BTC("refill-new", "btc-cold", pt.BTCHot, 1000, t0)
	replayed := []policy.Approval{pt.Approve("tom", old.Digest, t0), pt.Approve("tina", old.Digest, t0)}
	now := t0.Add(7 * time.Hour)
	expect(t, evaluate(t, p, policy.Snapshot{Approvals: replayed}, req, now), policy.EffectPending, "refill")
	expect(t, evaluate(t, p, policy.Snapshot{Approvals: replayed}, old, now), policy.EffectAllow, "refill")
	// At the signature level: tom's signature over the old digest does not
	// verify for the new one, nor for the other verdict.
	sig := f.Officers["tom"].Sign(policy.ApprovalMessage(old.Digest, policy.VerdictApprove, signedAt))
	if err := policy.VerifyApproval(p, "tom", old.Digest, policy.VerdictApprove, signedAt, sig); err != nil {
		t.Fatalf("VerifyApproval(old) = %v", err)
	}
	if err := policy.VerifyApproval(p, "tom", req.Digest, policy.VerdictApprove, signedAt, sig); !errors.Is(err, policy.ErrBadSignature) {
		t.Fatalf("VerifyApproval(new digest) = %v, want ErrBadSignature", err)
	}
	if err := policy.VerifyApproval(p, "tina", old.Digest, policy.VerdictApprove, signedAt, sig); !errors.Is(err, policy.ErrBadSignature) {
		t.Fatalf("VerifyApproval(other officer) = %v, want ErrBadSignature", err)
	}
}

func TestAttackSelfApproval(t *testing.T) {
	p := pt.New().Policy(t)
	req := pt.BTC("self", "btc-cold", pt.BTCHot, 1000, t0)
	req.Initiator, req.InitiatorRole = "tom", "operator"
	now := t0.Add(7 * time.Hour)
	self := []policy.Approval{pt.Approve("tom", req.Digest, t0), pt.Approve("tina", req.Digest, t0)}
	d := evaluate(t, p, policy.Snapshot{Approvals: self}, req, now)
	expect(t, d, policy.EffectPending, "refill")
	if len(d.Missing) != 1 || d.Missing[0].Have != 1 {
		t.Errorf("missing %+v, want 1 of 2 treasury approvals", d.Missing)
	}
	control := append(self, pt.Approve("theo", req.Digest, t0))
	expect(t, evaluate(t, p, policy.Snapshot{Approvals: control}, req, now), policy.EffectAllow, "refill")
}

func TestAttackOneOfficerApprovingTwiceUnderTwoGroups(t *testing.T) {
	p := pt.New().Policy(t)
	req := pt.BTC("safu", "btc-safu", pt.BTCHot, 1000, t0)
	at := t0.Add(70 * time.Hour)
	// ida is in treasury and risk; she approves twice, tom once: ida may
	// fill one slot only, so treasury 2 + risk 1 is not met.
	twice := []policy.Approval{pt.Approve("ida", req.Digest, at), pt.Approve("ida", req.Digest, at.Add(time.Minute)), pt.Approve("tom", req.Digest, at)}
	expect(t, evaluate(t, p, policy.Snapshot{Approvals: twice}, req, t0.Add(73*time.Hour)), policy.EffectPending, "safu-out")
	control := append(twice, pt.Approve("tina", req.Digest, at))
	expect(t, evaluate(t, p, policy.Snapshot{Approvals: control}, req, t0.Add(73*time.Hour)), policy.EffectAllow, "safu-out")
}
