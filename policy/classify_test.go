package policy_test

import (
	"testing"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

func TestClassify(t *testing.T) {
	type mut = func(t *testing.T, d *policy.Document)
	bulkExternal := func(t *testing.T, d *policy.Document) {
		d.Rules = append(d.Rules, policy.Rule{ID: "bulk-external", Action: policy.ActionAllow, Match: policy.Match{
			Source: policy.SourceSelector{Wallets: []string{"btc-hot"}}, Destination: policy.DestSelector{External: true},
			Assets: []string{"BTC"}, Amount: policy.AmountRange{Max: amt("100000000")}}})
	}
	// Every fee bound, for the cases that raise or remove one.
	fees := func(t *testing.T, d *policy.Document) {
		btc, eth := feeCap(t, d, policy.ChainBTC), feeCap(t, d, policy.ChainETH)
		btc.MaxFeeBps, btc.MaxFeeRate = u64(100), u64(300)
		eth.MaxFeeBps, eth.MaxPriorityFeePerGas = u64(100), amt("5000000000")
		d.Invariants.FeeBudgets = []policy.FeeBudget{{Wallet: "btc-hot", Window: hours(24), MaxFee: policy.MustAmount("2000000")}}
		rule(t, d, "sweep-btc").MaxFeeBps = u64(100)
	}
	budget := func(d *policy.Document) *policy.FeeBudget { return &d.Invariants.FeeBudgets[0] }
	tests := []struct {
		name   string
		base   mut // applied to both versions
		change mut
		want   policy.ChangeKind
	}{
		{"ok/tightening/no-change", nil, func(t *testing.T, d *policy.Document) {}, policy.Tightening},
		{"ok/tightening/lower-limit-amount", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Limits[0].MaxAmount = amt("5") }, policy.Tightening},
		{"ok/tightening/lower-limit-count", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Limits[0].MaxCount = 1 }, policy.Tightening},
		{"ok/tightening/longer-window", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Limits[0].Window = hours(48) }, policy.Tightening},
		{"ok/tightening/add-limit", nil, func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "withdraw-eth")
			r.Limits = append(r.Limits, policy.Limit{Scope: policy.ScopeDestination, Window: hours(1), MaxCount: 3})
		}, policy.Tightening},
		{"ok/tightening/raise-k", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "refill").Approvals.AllOf[0].K = 3 }, policy.Tightening},
		{"ok/tightening/add-all-of-term", nil, func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "refill")
			r.Approvals.AllOf = append(r.Approvals.AllOf, policy.Term{Group: "risk", K: 1})
		}, policy.Tightening},
		{"ok/tightening/any-of-to-all-of", nil, func(t *testing.T, d *policy.Document) {
			rule(t, d, "big-withdraw").Approvals = policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 1}, {Group: "risk", K: 1}}}
		}, policy.Tightening},
		{"ok/tightening/longer-timelock", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "refill").Timelock = hours(12) }, policy.Tightening},
		{"ok/tightening/add-veto-group", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "big-withdraw").VetoGroups = []string{"risk"} }, policy.Tightening},
		{"ok/tightening/allow-to-require-approval", nil, func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "sweep-btc")
			r.Action, r.Approvals = policy.ActionRequireApproval, policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 1}}}
		}, policy.Tightening},
		{"ok/tightening/require-approval-to-deny", nil, func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "refill")
			r.Action, r.Approvals, r.Timelock, r.VetoGroups = policy.ActionDeny, policy.Approvals{}, 0, nil
		}, policy.Tightening},
		{"ok/tightening/insert-deny-rule", nil, func(t *testing.T, d *policy.Document) {
			insertRule(d, 0, policy.Rule{ID: "no-usdc", Action: policy.ActionDeny, Match: policy.Match{Assets: []string{"USDC"}}})
			removeRule(t, d, "withdraw-usdc") // now shadowed
		}, policy.Tightening},
		{"ok/tightening/remove-allow-rule-to-default-deny", nil, func(t *testing.T, d *policy.Document) { removeRule(t, d, "sweep-btc") }, policy.Tightening},
		{"ok/tightening/narrow-allow-rule-to-default-deny", nil, func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Match.Amount.Max = amt("50000000")
		}, policy.Tightening},
		{"ok/tightening/remove-whitelist-entry", nil, func(t *testing.T, d *policy.Document) {
			d.Whitelists[0].Entries = d.Whitelists[0].Entries[:1]
		}, policy.Tightening},
		{"ok/tightening/later-whitelist-activation", nil, func(t *testing.T, d *policy.Document) { d.Whitelists[0].ActiveAfter = hours(100) }, policy.Tightening},
		{"ok/tightening/officer-leaves-non-veto-group", nil, func(t *testing.T, d *policy.Document) { d.Officers[5].Groups = nil }, policy.Tightening}, // tom
		{"ok/tightening/shorter-approval-ttl", nil, func(t *testing.T, d *policy.Document) { d.ApprovalTTL = hours(1) }, policy.Tightening},
		{"ok/tightening/longer-loosen-delay", nil, func(t *testing.T, d *policy.Document) { d.LoosenDelay = hours(96) }, policy.Tightening},
		{"ok/tightening/higher-admin-quorum", nil, func(t *testing.T, d *policy.Document) { d.Admins.Quorum = 3 }, policy.Tightening},
		{"ok/tightening/lower-fee-cap", nil, func(t *testing.T, d *policy.Document) {
			d.Invariants.FeeCaps[0].MaxFee = policy.MustAmount("1000")
		}, policy.Tightening},

		{"ok/tightening/add-fee-bounds", nil, fees, policy.Tightening},
		{"ok/tightening/lower-fee-bounds", fees, func(t *testing.T, d *policy.Document) {
			btc, eth := feeCap(t, d, policy.ChainBTC), feeCap(t, d, policy.ChainETH)
			btc.MaxFeeBps, btc.MaxFeeRate = u64(99), u64(299)
			eth.MaxFeeBps, eth.MaxPriorityFeePerGas = u64(1), amt("4999999999")
			budget(d).MaxFee = policy.MustAmount("1999999")
			rule(t, d, "sweep-btc").MaxFeeBps = u64(50)
		}, policy.Tightening},
		{"ok/tightening/fee-budget-longer-window", fees, func(t *testing.T, d *policy.Document) { budget(d).Window = hours(48) }, policy.Tightening},
		{"ok/tightening/fee-budget-added-beside-another", fees, func(t *testing.T, d *policy.Document) {
			d.Invariants.FeeBudgets = append(d.Invariants.FeeBudgets, policy.FeeBudget{Wallet: "btc-hot", Window: hours(1), MaxFee: policy.MustAmount("1")})
		}, policy.Tightening},

		{"fail/loosening/fee-bps-raised", fees, func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeBps = u64(101) }, policy.Loosening},
		{"fail/loosening/fee-bps-removed", fees, func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainETH).MaxFeeBps = nil }, policy.Loosening},
		{"fail/loosening/fee-rate-raised", fees, func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeRate = u64(301) }, policy.Loosening},
		{"fail/loosening/fee-rate-removed", fees, func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeRate = nil }, policy.Loosening},
		{"fail/loosening/priority-fee-cap-raised", fees, func(t *testing.T, d *policy.Document) {
			feeCap(t, d, policy.ChainETH).MaxPriorityFeePerGas = amt("5000000001")
		}, policy.Loosening},
		{"fail/loosening/priority-fee-cap-removed", fees, func(t *testing.T, d *policy.Document) {
			feeCap(t, d, policy.ChainETH).MaxPriorityFeePerGas = nil
		}, policy.Loosening},
		{"fail/loosening/fee-budget-raised", fees, func(t *testing.T, d *policy.Document) { budget(d).MaxFee = policy.MustAmount("2000001") }, policy.Loosening},
		{"fail/loosening/fee-budget-shortened", fees, func(t *testing.T, d *policy.Document) { budget(d).Window = hours(23) }, policy.Loosening},
		{"fail/loosening/fee-budget-removed", fees, func(t *testing.T, d *policy.Document) { d.Invariants.FeeBudgets = nil }, policy.Loosening},
		{"fail/loosening/fee-budget-moved-to-another-wallet", fees, func(t *testing.T, d *policy.Document) { budget(d).Wallet = "eth-hot" }, policy.Loosening},
		{"fail/loosening/rule-fee-bps-raised", fees, func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").MaxFeeBps = u64(200) }, policy.Loosening},
		{"fail/loosening/rule-fee-bps-removed", fees, func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").MaxFeeBps = nil }, policy.Loosening},
		{"fail/loosening/raise-limit", nil, func(t *testing.T, d *policy.Document) {
			rule(t, d, "sweep-btc").Limits[0].MaxAmount = amt("1000000001")
		}, policy.Loosening},
		{"fail/loosening/remove-limit", nil, func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Limits = rule(t, d, "withdraw-btc").Limits[1:]
		}, policy.Loosening},
		{"fail/loosening/shorter-window", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").Limits[0].Window = hours(23) }, policy.Loosening},
		{"fail/loosening/lower-k", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "refill").Approvals.AllOf[0].K = 1 }, policy.Loosening},
		{"fail/loosening/drop-all-of-term", nil, func(t *testing.T, d *policy.Document) {
			rule(t, d, "safu-out").Approvals.AllOf = []policy.Term{{Group: "treasury", K: 2}}
		}, policy.Loosening},
		{"fail/loosening/shorter-timelock", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "safu-out").Timelock = hours(71) }, policy.Loosening},
		{"fail/loosening/drop-veto-group", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "refill").VetoGroups = nil }, policy.Loosening},
		{"fail/loosening/require-approval-to-allow", nil, func(t *testing.T, d *policy.Document) {
			r := rule(t, d, "big-withdraw")
			r.Action, r.Approvals = policy.ActionAllow, policy.Approvals{}
		}, policy.Loosening},
		{"fail/loosening/add-allow-rule", nil, bulkExternal, policy.Loosening},
		{"fail/loosening/remove-deny-rule", nil, func(t *testing.T, d *policy.Document) { removeRule(t, d, "safu-other") }, policy.Loosening},
		{"fail/loosening/narrow-deny-rule", nil, func(t *testing.T, d *policy.Document) { rule(t, d, "safu-other").Match.Assets = []string{"BTC"} }, policy.Loosening},
		{"fail/loosening/widen-allow-rule", nil, func(t *testing.T, d *policy.Document) {
			rule(t, d, "withdraw-btc").Match.Amount.Max = amt("100000001")
			rule(t, d, "big-withdraw").Match.Amount.Min = amt("100000002")
		}, policy.Loosening},
		{"fail/loosening/removed-rule-escapes-to-later-allow", bulkExternal, func(t *testing.T, d *policy.Document) {
			removeRule(t, d, "withdraw-btc")
		}, policy.Loosening},
		{"fail/loosening/reorder-rules", nil, func(t *testing.T, d *policy.Document) {
			d.Rules[6], d.Rules[7] = d.Rules[7], d.Rules[6]
		}, policy.Loosening},
		{"fail/loosening/add-whitelist-entry", nil, func(t *testing.T, d *policy.Document) {
			d.Whitelists[0].Entries = append(d.Whitelists[0].Entries, policy.WhitelistEntry{Address: pt.BTCStranger, Label: "s", AddedAt: t0})
		}, policy.Loosening},
		{"fail/loosening/earlier-whitelist-activation", nil, func(t *testing.T, d *policy.Document) { d.Whitelists[0].ActiveAfter = hours(1) }, policy.Loosening},
		{"fail/loosening/officer-joins-group", nil, func(t *testing.T, d *policy.Document) { d.Officers[3].Groups = []string{"treasury", "risk"} }, policy.Loosening}, // theo
		{"fail/loosening/officer-leaves-veto-group", nil, func(t *testing.T, d *policy.Document) { d.Officers[2].Groups = nil }, policy.Loosening},                    // rita
		{"fail/loosening/officer-key-changed", nil, func(t *testing.T, d *policy.Document) { d.Officers[0].Key = pt.Ed25519Key("new").Public.String() }, policy.Loosening},
		{"fail/loosening/admin-added", nil, func(t *testing.T, d *policy.Document) {
			d.Admins.Members = append(d.Admins.Members, policy.Admin{ID: "dan", Key: pt.Ed25519Key("dan").Public.String()})
		}, policy.Loosening},
		{"fail/loosening/admin-quorum-lowered", nil, func(t *testing.T, d *policy.Document) { d.Admins.Quorum = 1 }, policy.Loosening},
		{"fail/loosening/shorter-loosen-delay", nil, func(t *testing.T, d *policy.Document) { d.LoosenDelay = hours(1) }, policy.Loosening},
		{"fail/loosening/longer-approval-ttl", nil, func(t *testing.T, d *policy.Document) { d.ApprovalTTL = hours(48) }, policy.Loosening},
		{"fail/loosening/wallet-address-added", nil, func(t *testing.T, d *policy.Document) {
			d.Wallets[1].Addresses = append(d.Wallets[1].Addresses, pt.BTCStranger)
		}, policy.Loosening},
		{"fail/loosening/asset-added", nil, func(t *testing.T, d *policy.Document) {
			d.Assets = append(d.Assets, policy.Asset{ID: "DAI", Chain: policy.ChainETH, Contract: pt.ETHStranger})
		}, policy.Loosening},
		{"fail/loosening/pin-added", nil, func(t *testing.T, d *policy.Document) {
			d.Invariants.PinnedDestinations[0].To = append(d.Invariants.PinnedDestinations[0].To, "btc-safu")
		}, policy.Loosening},
		{"fail/loosening/fee-cap-raised", nil, func(t *testing.T, d *policy.Document) { d.Invariants.FeeCaps[0].MaxFee = policy.MustAmount("100001") }, policy.Loosening},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := pt.New()
			if tc.base != nil {
				tc.base(t, &f.Doc)
			}
			old := f.Policy(t)
			nd := old.Document()
			nd.Version, nd.Parent = 2, old.Hash().String()
			tc.change(t, &nd)
			c := policy.Classify(old, mustPolicy(t, nd))
			if c.Kind != tc.want {
				t.Fatalf("Classify = %s %v, want %s", c.Kind, c.Reasons, tc.want)
			}
			if (c.Kind == policy.Loosening) != (len(c.Reasons) > 0) {
				t.Fatalf("reasons %v for %s", c.Reasons, c.Kind)
			}
			t.Log(c.Reasons)
		})
	}
}

func TestClassifyTableOfficerIndexes(t *testing.T) {
	// The table above addresses officers by index in the normalized
	// (sorted) document: ida, raj, rita, theo, tina, tom.
	d := pt.New().Policy(t).Document()
	want := []string{"ida", "raj", "rita", "theo", "tina", "tom"}
	for i, o := range d.Officers {
		if o.ID != want[i] {
			t.Fatalf("officers[%d] = %s, want %s", i, o.ID, want[i])
		}
	}
}
