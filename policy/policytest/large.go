package policytest

import (
	"fmt"
	"time"

	"github.com/cofferhq/coffer/policy"
)

// Large is the benchmark's workload: a policy with nWhitelist entries and
// nRules rules, nSpends past spends (each with a fee) in its windows, and a
// request that passes the fee bounds (cap, fee rate ceiling and a 24h fee
// budget) and every rule's source, asset and destination checks, fails the
// first nRules-1 on amount and is allowed by the last one after its limits
// (over rule, source with fees, and destination), approvals (2 treasury +
// 1 risk, assigned by matching), veto check and timelock.
type Large struct {
	Fixture  *Fixture
	Snapshot policy.Snapshot
	Request  policy.Request
	Now      time.Time
}

// LargeAddress is the i-th whitelisted address of the large workload.
func LargeAddress(i int) string { return fmt.Sprintf("bc1qbench%032d", i) }

// NewLarge builds the benchmark's workload.
func NewLarge(nWhitelist, nRules, nSpends int) Large {
	f := New()
	now := T0
	added := now.Add(-30 * 24 * time.Hour)
	entries := make([]policy.WhitelistEntry, nWhitelist)
	for i := range entries {
		entries[i] = policy.WhitelistEntry{Address: LargeAddress(i), Label: fmt.Sprintf("customer %d", i), AddedAt: added}
	}
	f.Doc.Whitelists[0].Entries = entries
	src := policy.SourceSelector{Wallets: []string{"btc-hot"}}
	dst := policy.DestSelector{Whitelists: []string{"btc-exchanges"}}
	h := func(n int) policy.Duration { return policy.Duration(time.Duration(n) * time.Hour) }
	rules := make([]policy.Rule, 0, nRules)
	for i := range nRules - 1 {
		lo := uint64(1_000_000 + 1000*i)
		rules = append(rules, policy.Rule{ID: fmt.Sprintf("band-%03d", i), Action: policy.ActionRequireApproval,
			Match: policy.Match{Source: src, Destination: dst, Assets: []string{"BTC"},
				Amount: policy.AmountRange{Min: amountPtr(lo), Max: amountPtr(lo + 999)}},
			Approvals: policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 1}}},
			Limits:    []policy.Limit{{Scope: policy.ScopeRule, Window: h(24), MaxCount: 100}}})
	}
	rules = append(rules, policy.Rule{ID: "small", Action: policy.ActionRequireApproval,
		Match: policy.Match{Source: src, Destination: dst, Assets: []string{"BTC"},
			Amount: policy.AmountRange{Max: amountPtr(999_999)}, InitiatorRoles: []string{"withdrawal"}},
		Approvals: policy.Approvals{AllOf: []policy.Term{{Group: "treasury", K: 2}, {Group: "risk", K: 1}}},
		Limits: []policy.Limit{
			{Scope: policy.ScopeRule, Window: h(1), MaxAmount: amountPtr(1 << 40), MaxCount: 1 << 20},
			{Scope: policy.ScopeSource, Window: h(24), MaxAmount: amountPtr(1 << 40), MaxCount: 1 << 20},
			{Scope: policy.ScopeDestination, Window: h(24), MaxAmount: amountPtr(1 << 40), MaxCount: 1 << 20},
		},
		Timelock: h(1), VetoGroups: []string{"risk"}})
	f.Doc.Rules = rules
	rate := policy.Uint(300)
	f.Doc.Invariants.FeeCaps[0].MaxFeeRate = &rate // btc
	f.Doc.Invariants.FeeBudgets = []policy.FeeBudget{{Wallet: "btc-hot", Window: h(24), MaxFee: policy.AmountFromUint64(1 << 40)}}

	to := LargeAddress(nWhitelist / 2)
	req := BTC("bench", "btc-hot", to, 500, now.Add(-2*time.Hour))
	var snap policy.Snapshot
	for i := range nSpends {
		at := now.Add(-time.Duration(i) * 24 * time.Hour / time.Duration(max(nSpends, 1)))
		dest := LargeAddress(i % max(nWhitelist, 1))
		if i%10 == 0 {
			dest = to
		}
		snap.Spends = append(snap.Spends, policy.Spend{At: at, Source: "btc-hot", To: dest, Rule: "small", Asset: "BTC",
			Amount: policy.AmountFromUint64(uint64(1000 + i)), Fee: policy.AmountFromUint64(uint64(200 + i%100))})
	}
	for i := range 1000 { // approvals of other requests
		snap.Approvals = append(snap.Approvals, Approve(officers[i%len(officers)], Digest(fmt.Sprint("other", i)), now.Add(-time.Hour)))
	}
	snap.Approvals = append(snap.Approvals,
		Approve("ida", req.Digest, now.Add(-time.Hour)), Approve("tom", req.Digest, now.Add(-time.Hour)),
		Approve("tina", req.Digest, now.Add(-time.Hour)), Approve("rita", req.Digest, now.Add(-time.Hour)))
	return Large{Fixture: f, Snapshot: snap, Request: req, Now: now}
}
