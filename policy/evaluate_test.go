package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

var t0 = pt.T0

func spend(at time.Time, source, to, rule, asset, amount string) policy.Spend {
	return policy.Spend{At: at, Source: source, To: to, Rule: rule, Asset: asset, Amount: policy.MustAmount(amount)}
}

func repeatSpends(n int, s policy.Spend, step time.Duration) []policy.Spend {
	out := make([]policy.Spend, n)
	for i := range out {
		out[i] = s
		out[i].At = s.At.Add(time.Duration(i) * step)
	}
	return out
}

func eth(id, to, asset, amount string) policy.Request {
	return pt.ETH(id, "eth-hot", to, asset, policy.MustAmount(amount), t0)
}

func TestEvaluate(t *testing.T) {
	btc := func(id, source, to string, amount uint64) policy.Request { return pt.BTC(id, source, to, amount, t0) }
	refill := btc("refill-1", "btc-cold", pt.BTCHot, 100_000_000)
	safu := btc("safu-1", "btc-safu", pt.BTCHot, 100_000_000)
	big := btc("big-1", "btc-hot", pt.BTCKraken, 200_000_000)
	d := func(r policy.Request) policy.Hash { return r.Digest }
	tests := []evalCase{
		// Source, destination, asset, amount and role matching.
		{name: "ok/sweep-hot-to-cold-without-approvals", req: btc("s", "btc-hot", pt.BTCCold, 100_000_000), now: t0,
			effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "ok/source-by-class-destination-by-class", req: refill, now: t0, snap: policy.Snapshot{},
			effect: policy.EffectPending, rule: "refill"},
		{name: "ok/destination-by-wallet-id", req: btc("s", "btc-hot", pt.BTCCold, 1000), now: t0,
			mutate: func(t *testing.T, d *policy.Document) {
				rule(t, d, "sweep-btc").Match.Destination = policy.DestSelector{Wallets: []string{"btc-cold"}}
			}, effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "ok/destination-active-whitelist", req: btc("w", "btc-hot", pt.BTCKraken, 1000), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-btc"},
		{name: "ok/destination-any-external", req: func() policy.Request {
			r := btc("x", "btc-hot", pt.BTCStranger, 1000)
			r.InitiatorRole = "operator"
			return r
		}(), now: t0, mutate: func(t *testing.T, d *policy.Document) {
			d.Rules = append(d.Rules, policy.Rule{ID: "ops-external", Action: policy.ActionRequireApproval,
				Match: policy.Match{Source: policy.SourceSelector{Wallets: []string{"btc-hot"}},
					Destination: policy.DestSelector{External: true}, InitiatorRoles: []string{"operator"}},
				Approvals: policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 1}}}})
		}, effect: policy.EffectPending, rule: "ops-external"},
		{name: "fail/external-not-whitelisted-matches-no-rule", req: btc("x", "btc-hot", pt.BTCStranger, 1000), now: t0,
			effect: policy.EffectDeny, rule: ""},
		{name: "ok/asset-eth", req: eth("e", pt.ETHCoinbase, "ETH", "1000000000000000000"), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "ok/asset-erc20", req: eth("u", pt.ETHCoinbase, "USDC", "5000000"), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-usdc"},
		{name: "ok/eth-address-case-does-not-matter", req: func() policy.Request {
			r := eth("e", strings.ToUpper(pt.ETHCoinbase[2:]), "ETH", "1000")
			r.To, r.ETH.To = "0x"+r.To, "0x"+r.To
			return r
		}(), now: t0, effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "ok/amount-at-range-max", req: btc("w", "btc-hot", pt.BTCKraken, 100_000_000), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-btc"},
		{name: "ok/amount-above-range-goes-to-next-rule", req: big, now: t0,
			effect: policy.EffectPending, rule: "big-withdraw"},
		{name: "fail/initiator-role-does-not-match", req: func() policy.Request {
			r := btc("w", "btc-hot", pt.BTCKraken, 1000)
			r.InitiatorRole = "operator"
			return r
		}(), now: t0, effect: policy.EffectDeny, rule: ""},
		{name: "fail/deny-action", req: btc("w", "btc-hot", pt.BTCKraken, 55_000_000), now: t0,
			mutate: func(t *testing.T, d *policy.Document) {
				insertRule(d, 0, policy.Rule{ID: "block-band", Action: policy.ActionDeny, Match: policy.Match{
					Source: policy.SourceSelector{Wallets: []string{"btc-hot"}}, Destination: policy.DestSelector{Whitelists: []string{"btc-exchanges"}},
					Assets: []string{"BTC"}, Amount: policy.AmountRange{Min: amt("50000000"), Max: amt("60000000")}}})
			}, effect: policy.EffectDeny, rule: "block-band"},
		{name: "fail/no-rule-default-deny", req: eth("e", pt.ETHStranger, "ETH", "1000"), now: t0,
			effect: policy.EffectDeny, rule: ""},
		{name: "fail/no-rules-at-all", req: btc("s", "btc-hot", pt.BTCCold, 1000), now: t0,
			mutate: func(t *testing.T, d *policy.Document) { d.Rules = nil }, effect: policy.EffectDeny, rule: ""},

		// Limits.
		{name: "fail/limit-rule-amount", req: btc("s", "btc-hot", pt.BTCCold, 100_000_000), now: t0,
			snap:   policy.Snapshot{Spends: repeatSpends(3, spend(t0.Add(-10*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "300000001"), time.Hour)},
			effect: policy.EffectDeny, rule: "sweep-btc"},
		{name: "ok/limit-rule-amount-exactly-at-max", req: btc("s", "btc-hot", pt.BTCCold, 100_000_000), now: t0,
			snap: policy.Snapshot{Spends: repeatSpends(3, spend(t0.Add(-10*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "300000000"), time.Hour)},
			mutate: func(t *testing.T, d *policy.Document) {
				rule(t, d, "sweep-btc").Limits[0].MaxAmount = amt("1000000000")
			},
			effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "fail/limit-rule-count", req: btc("s", "btc-hot", pt.BTCCold, 1), now: t0,
			snap:   policy.Snapshot{Spends: repeatSpends(5, spend(t0.Add(-5*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "1"), time.Hour)},
			effect: policy.EffectDeny, rule: "sweep-btc"},
		{name: "ok/limit-spends-outside-window", req: btc("s", "btc-hot", pt.BTCCold, 1), now: t0,
			snap:   policy.Snapshot{Spends: repeatSpends(5, spend(t0.Add(-30*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "900000000"), time.Minute)},
			effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "ok/limit-rule-scope-ignores-other-rules", req: eth("e", pt.ETHCoinbase, "ETH", "1000000000000000000"), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-time.Minute), "eth-hot", pt.ETHCold, "sweep-eth", "ETH", "29500000000000000000")}},
			effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "fail/limit-rule-scope", req: eth("e", pt.ETHCoinbase, "ETH", "1000000000000000000"), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-time.Minute), "eth-hot", pt.ETHCoinbase, "withdraw-eth", "ETH", "29500000000000000000")}},
			effect: policy.EffectDeny, rule: "withdraw-eth"},
		{name: "fail/limit-source-scope-counts-every-rule", req: btc("w", "btc-hot", pt.BTCKraken, 60_000_000), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-30*time.Minute), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "150000000")}},
			effect: policy.EffectDeny, rule: "withdraw-btc"},
		{name: "ok/limit-source-scope-other-source", req: btc("w", "btc-hot", pt.BTCKraken, 60_000_000), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-30*time.Minute), "btc-cold", pt.BTCHot, "refill", "BTC", "150000000")}},
			effect: policy.EffectAllow, rule: "withdraw-btc"},
		{name: "fail/limit-destination-scope", req: eth("u", pt.ETHCoinbase, "USDC", "2000000"), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-20*time.Hour), "eth-hot", pt.ETHCoinbase, "older-rule", "USDC", "99999000000")}},
			effect: policy.EffectDeny, rule: "withdraw-usdc"},
		{name: "ok/limit-destination-scope-other-asset", req: eth("u", pt.ETHCoinbase, "USDC", "2000000"), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{spend(t0.Add(-20*time.Hour), "eth-hot", pt.ETHCoinbase, "withdraw-eth", "ETH", "99999000000")}},
			effect: policy.EffectAllow, rule: "withdraw-usdc"},

		// Approvals, vetoes, timelocks.
		{name: "ok/approvals-met-timelock-passed", req: refill, now: t0.Add(7 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0.Add(time.Hour)), pt.Approve("tina", d(refill), t0.Add(2*time.Hour))}},
			effect: policy.EffectAllow, rule: "refill", check: func(t *testing.T, dec policy.Decision) {
				if !slices.Equal(dec.Approvers, []string{"tina", "tom"}) {
					t.Errorf("approvers %v", dec.Approvers)
				}
			}},
		{name: "ok/approvals-met-timelock-running", req: refill, now: t0.Add(time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("tina", d(refill), t0)}},
			effect: policy.EffectPending, rule: "refill", check: func(t *testing.T, dec policy.Decision) {
				want := t0.Add(6 * time.Hour)
				if len(dec.Missing) != 1 || dec.Missing[0].Kind != policy.MissingTimelock || !dec.Missing[0].Until.Equal(want) || !dec.NotBefore.Equal(want) {
					t.Errorf("missing %+v not before %v", dec.Missing, dec.NotBefore)
				}
			}},
		{name: "ok/one-approval-missing", req: refill, now: t0.Add(7 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0.Add(time.Hour))}},
			effect: policy.EffectPending, rule: "refill", check: func(t *testing.T, dec policy.Decision) {
				if len(dec.Missing) != 1 || dec.Missing[0].Group != "treasury" || dec.Missing[0].Need != 2 || dec.Missing[0].Have != 1 {
					t.Errorf("missing %+v", dec.Missing)
				}
			}},
		{name: "fail/veto-by-veto-group", req: refill, now: t0.Add(7 * time.Hour),
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("tina", d(refill), t0),
				pt.Reject("rita", d(refill), t0.Add(5*time.Hour))}},
			effect: policy.EffectDeny, rule: "refill"},
		{name: "ok/reject-outside-veto-group-only-withdraws-own-approval", req: refill, now: t0.Add(7 * time.Hour),
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("tina", d(refill), t0),
				pt.Approve("theo", d(refill), t0), pt.Reject("theo", d(refill), t0.Add(time.Hour))}},
			effect: policy.EffectAllow, rule: "refill", check: func(t *testing.T, dec policy.Decision) {
				if slices.Contains(dec.Approvers, "theo") {
					t.Errorf("theo rejected but counted: %v", dec.Approvers)
				}
			}},
		{name: "fail/reject-cancels-approval", req: refill, now: t0.Add(7 * time.Hour),
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Reject("tom", d(refill), t0.Add(time.Hour)),
				pt.Approve("tina", d(refill), t0)}},
			effect: policy.EffectPending, rule: "refill"},
		{name: "fail/expired-approvals-do-not-count", req: refill, now: t0.Add(25 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("tina", d(refill), t0.Add(2*time.Hour))}},
			effect: policy.EffectPending, rule: "refill"},
		{name: "fail/approvals-from-outside-the-group", req: refill, now: t0.Add(7 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("rita", d(refill), t0), pt.Approve("raj", d(refill), t0)}},
			effect: policy.EffectPending, rule: "refill", check: func(t *testing.T, dec policy.Decision) {
				if len(dec.Approvers) != 0 || !slices.Contains(dec.Trace, "approval by officer rita does not count: not in a group this rule requires") {
					t.Errorf("approvers %v, trace %v", dec.Approvers, dec.Trace)
				}
			}},
		{name: "fail/approval-by-unknown-officer", req: refill, now: t0.Add(7 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("mallory", d(refill), t0)}},
			effect: policy.EffectPending, rule: "refill"},
		{name: "fail/approval-stamped-in-the-future", req: refill, now: t0.Add(7 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("tina", d(refill), t0.Add(8*time.Hour))}},
			effect: policy.EffectPending, rule: "refill"},
		{name: "ok/any-of-first-alternative", req: big, now: t0,
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(big), t0)}}, effect: policy.EffectAllow, rule: "big-withdraw"},
		{name: "ok/any-of-second-alternative", req: big, now: t0,
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("raj", d(big), t0)}}, effect: policy.EffectAllow, rule: "big-withdraw"},
		{name: "fail/any-of-no-alternative", req: big, now: t0, effect: policy.EffectPending, rule: "big-withdraw",
			check: func(t *testing.T, dec policy.Decision) {
				if len(dec.Missing) != 2 || !dec.Missing[0].AnyOf || !dec.Missing[1].AnyOf {
					t.Errorf("missing %+v", dec.Missing)
				}
			}},
		{name: "ok/all-of-two-groups", req: safu, now: t0.Add(73 * time.Hour),
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(safu), t0.Add(60*time.Hour)),
				pt.Approve("tina", d(safu), t0.Add(60*time.Hour)), pt.Approve("rita", d(safu), t0.Add(60*time.Hour))}},
			effect: policy.EffectAllow, rule: "safu-out"},
		{name: "ok/officer-in-two-groups-fills-the-scarce-term", req: safu, now: t0.Add(73 * time.Hour),
			// ida (treasury+risk) must count for risk, tom and tina for treasury.
			snap: policy.Snapshot{Approvals: []policy.Approval{pt.Approve("ida", d(safu), t0.Add(60*time.Hour)),
				pt.Approve("tom", d(safu), t0.Add(60*time.Hour)), pt.Approve("tina", d(safu), t0.Add(60*time.Hour))}},
			effect: policy.EffectAllow, rule: "safu-out"},
		{name: "ok/membership-declared-on-the-group", req: refill, now: t0.Add(7 * time.Hour),
			mutate: func(t *testing.T, d *policy.Document) { group(t, d, "treasury").Members = []string{"rita"} },
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0), pt.Approve("rita", d(refill), t0)}},
			effect: policy.EffectAllow, rule: "refill"},
		{name: "ok/timelock-on-allow-rule-running", req: btc("s", "btc-hot", pt.BTCCold, 1000), now: t0.Add(30 * time.Minute),
			mutate: func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Timelock = hours(1) },
			effect: policy.EffectPending, rule: "sweep-btc"},
		{name: "ok/timelock-on-allow-rule-ended", req: btc("s", "btc-hot", pt.BTCCold, 1000), now: t0.Add(time.Hour),
			mutate: func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Timelock = hours(1) },
			effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "fail/frozen", req: btc("s", "btc-hot", pt.BTCCold, 1000), now: t0, snap: policy.Snapshot{Frozen: true},
			effect: policy.EffectDeny, rule: ""},
	}
	runEvaluateCases(t, tests)
}

func TestEvaluateNilPolicyDenies(t *testing.T) {
	d := policy.Evaluate(nil, policy.State{}, pt.BTC("s", "btc-hot", pt.BTCCold, 1, t0), t0)
	if d.Effect != policy.EffectDeny {
		t.Fatalf("effect %s", d.Effect)
	}
}

// evalCase is one Evaluate table case on the fixture (optionally mutated).
type evalCase struct {
	name   string
	mutate func(t *testing.T, d *policy.Document)
	req    policy.Request
	snap   policy.Snapshot
	now    time.Time
	effect policy.Effect
	rule   string
	check  func(t *testing.T, d policy.Decision)
}

func runEvaluateCases(t *testing.T, tests []evalCase) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := pt.New()
			if tc.mutate != nil {
				tc.mutate(t, &f.Doc)
			}
			p := f.Policy(t)
			dec := evaluate(t, p, tc.snap, tc.req, tc.now)
			expect(t, dec, tc.effect, tc.rule)
			if dec.PolicyHash != p.Hash() || len(dec.Trace) == 0 || dec.Reason == "" {
				t.Fatalf("decision lacks hash, trace or reason: %+v", dec)
			}
			if tc.check != nil {
				tc.check(t, dec)
			}
		})
	}
}
