package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// feeSpend is a spend with a fee.
func feeSpend(at time.Time, source, to, rule, asset, amount, fee string) policy.Spend {
	s := spend(at, source, to, rule, asset, amount)
	s.Fee = policy.MustAmount(fee)
	return s
}

func u64(v uint64) *policy.Uint { u := policy.Uint(v); return &u }

// feeCap returns the fixture's fee cap of chain.
func feeCap(t *testing.T, d *policy.Document, chain policy.Chain) *policy.FeeCap {
	t.Helper()
	i := slices.IndexFunc(d.Invariants.FeeCaps, func(c policy.FeeCap) bool { return c.Chain == chain })
	if i < 0 {
		t.Fatalf("no fee cap for %s", chain)
	}
	return &d.Invariants.FeeCaps[i]
}

// reasonHas checks that the decision's reason holds every part.
func reasonHas(parts ...string) func(t *testing.T, d policy.Decision) {
	return func(t *testing.T, d policy.Decision) {
		for _, p := range parts {
			if !strings.Contains(d.Reason, p) {
				t.Errorf("reason %q lacks %q", d.Reason, p)
			}
		}
	}
}

// traceHas checks that some trace line holds every part.
func traceHas(parts ...string) func(t *testing.T, d policy.Decision) {
	return func(t *testing.T, d policy.Decision) {
		for _, l := range d.Trace {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(l, p) }) {
				return
			}
		}
		t.Errorf("no trace line holds %q:\n  %s", parts, joinLines(d.Trace))
	}
}

// TestEvaluateFeeWindows: a source-scoped limit of the chain's native
// asset counts what leaves the wallet, amounts and fees, including the
// fees of token transfers; token and rule-scoped windows count no fees.
func TestEvaluateFeeWindows(t *testing.T) {
	btc := func(amount uint64) policy.Request { return pt.BTC("w", "btc-hot", pt.BTCKraken, amount, t0) }
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	// withdraw-btc: source btc-hot ≤ 2 BTC per hour; the request's fee is 5000 sat.
	earlier := []policy.Spend{spend(ago(30*time.Minute), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "150000000")}
	// withdraw-eth under a source limit of 30 ETH per hour; the request's fee is 0.0021 ETH.
	ethSource := func(t *testing.T, d *policy.Document) {
		rule(t, d, "withdraw-eth").Limits = []policy.Limit{{Scope: policy.ScopeSource, Window: hours(1), MaxAmount: amt("30000000000000000000")}}
	}
	ethSpends := func(usdcFee string) []policy.Spend {
		return []policy.Spend{
			spend(ago(10*time.Minute), "eth-hot", pt.ETHCoinbase, "withdraw-eth", "ETH", "29000000000000000000"),
			feeSpend(ago(20*time.Minute), "eth-hot", pt.ETHCoinbase, "withdraw-usdc", "USDC", "1000000000", usdcFee), // 0.01 ETH fee
		}
	}
	const ethRoom = "987900000000000000" // 30 − 29 − 0.01 − 0.0021 ETH
	tests := []evalCase{
		{name: "ok/fee-window-amount-plus-fee-at-max", req: btc(49_995_000), now: t0, snap: policy.Snapshot{Spends: earlier},
			effect: policy.EffectAllow, rule: "withdraw-btc",
			check: traceHas("limit source btc-hot over 1h0m0s", ": 200000000 BTC incl. this one and fees (199995000 + fees 5000) (max 200000000)")},
		{name: "fail/fee-window-request-fee-counts", req: btc(50_000_000), now: t0, snap: policy.Snapshot{Spends: earlier},
			effect: policy.EffectDeny, rule: "withdraw-btc", check: reasonHas("limit source btc-hot", "200005000 BTC", "fees 5000", "(max 200000000)")},
		{name: "fail/fee-window-past-fee-of-another-rule-counts", req: btc(49_995_000), now: t0,
			snap:   policy.Snapshot{Spends: []policy.Spend{feeSpend(ago(30*time.Minute), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "150000000", "1")}},
			effect: policy.EffectDeny, rule: "withdraw-btc", check: reasonHas("200000001 BTC", "fees 5001")},
		{name: "ok/fee-window-fee-of-another-source-does-not-count", req: btc(49_995_000), now: t0,
			snap: policy.Snapshot{Spends: append(slices.Clone(earlier),
				feeSpend(ago(time.Minute), "btc-cold", pt.BTCHot, "refill", "BTC", "1", "90000"))},
			effect: policy.EffectAllow, rule: "withdraw-btc"},
		{name: "ok/fee-window-erc20-fee-counts-in-eth-window-at-max", mutate: ethSource, now: t0,
			req: eth("e", pt.ETHCoinbase, "ETH", ethRoom), snap: policy.Snapshot{Spends: ethSpends("10000000000000000")},
			effect: policy.EffectAllow, rule: "withdraw-eth",
			check: traceHas("limit source eth-hot", ": 30000000000000000000 ETH incl. this one and fees", "fees 12100000000000000)")},
		{name: "fail/fee-window-erc20-fee-counts-in-eth-window", mutate: ethSource, now: t0,
			req: eth("e", pt.ETHCoinbase, "ETH", "987900000000000001"), snap: policy.Snapshot{Spends: ethSpends("10000000000000000")},
			effect: policy.EffectDeny, rule: "withdraw-eth", check: reasonHas("30000000000000000001 ETH", "fees 12100000000000000", "(max 30000000000000000000)")},
		{name: "ok/fee-window-same-request-without-the-erc20-fee", mutate: ethSource, now: t0,
			req: eth("e", pt.ETHCoinbase, "ETH", "987900000000000001"), snap: policy.Snapshot{Spends: ethSpends("0")},
			effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "ok/fee-window-token-limit-counts-no-fees", now: t0,
			mutate: func(t *testing.T, d *policy.Document) {
				rule(t, d, "withdraw-usdc").Limits = []policy.Limit{{Scope: policy.ScopeSource, Window: hours(24), MaxAmount: amt("100000000000")}}
			},
			req:    eth("u", pt.ETHCoinbase, "USDC", "5000000"),
			snap:   policy.Snapshot{Spends: []policy.Spend{feeSpend(ago(time.Hour), "eth-hot", pt.ETHCoinbase, "withdraw-usdc", "USDC", "99995000000", "10000000000000000")}},
			effect: policy.EffectAllow, rule: "withdraw-usdc", check: traceHas(": 100000000000 USDC incl. this one (max 100000000000)")},
		{name: "ok/fee-window-rule-scope-counts-no-fees", req: pt.BTC("s", "btc-hot", pt.BTCCold, 100_000_000, t0), now: t0,
			snap:   policy.Snapshot{Spends: repeatSpends(3, feeSpend(ago(10*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "300000000", "9000"), time.Hour)},
			effect: policy.EffectAllow, rule: "sweep-btc", check: traceHas("limit rule sweep-btc", ": 1000000000 BTC incl. this one (max 1000000000)")},
	}
	runEvaluateCases(t, tests)
}

// TestEvaluateFeeBudgets: the fees of every spend from the wallet in the
// window (any asset, any rule) plus the request's fee stay within max_fee.
func TestEvaluateFeeBudgets(t *testing.T) {
	sweep := func(fee uint64) policy.Request {
		r := pt.BTC("s", "btc-hot", pt.BTCCold, 1_000_000, t0)
		r.Fee = policy.AmountFromUint64(fee)
		return r
	}
	budgets := func(bs ...policy.FeeBudget) func(t *testing.T, d *policy.Document) {
		return func(t *testing.T, d *policy.Document) { d.Invariants.FeeBudgets = bs }
	}
	daily := budgets(policy.FeeBudget{Wallet: "btc-hot", Window: hours(24), MaxFee: policy.MustAmount("20000")})
	snap := policy.Snapshot{Spends: []policy.Spend{
		feeSpend(t0.Add(-time.Hour), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "1000", "5000"),
		feeSpend(t0.Add(-20*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "1000", "10000"),
		feeSpend(t0.Add(-time.Hour), "btc-cold", pt.BTCHot, "refill", "BTC", "1000", "100000"),       // another wallet
		feeSpend(t0.Add(-25*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "1000", "100000"), // outside the window
	}}
	usdcFee := func(fee string) policy.Snapshot {
		return policy.Snapshot{Spends: []policy.Spend{feeSpend(t0.Add(-time.Hour), "eth-hot", pt.ETHCoinbase, "withdraw-usdc", "USDC", "1000000", fee)}}
	}
	ethDaily := budgets(policy.FeeBudget{Wallet: "eth-hot", Window: hours(24), MaxFee: policy.MustAmount("10000000000000000")})
	tests := []evalCase{
		{name: "ok/fee-budget-at-max", mutate: daily, req: sweep(5000), snap: snap, now: t0, effect: policy.EffectAllow, rule: "sweep-btc",
			check: traceHas("fee budget of btc-hot over 24h0m0s since 2025-02-28T12:00:00Z: 15000 + this request's 5000 = 20000 (max 20000)")},
		{name: "fail/fee-budget-exceeded", mutate: daily, req: sweep(5001), snap: snap, now: t0, effect: policy.EffectDeny, rule: "",
			check: reasonHas("invariant: fee budget of btc-hot over 24h0m0s", "15000 + this request's 5001 = 20001 (max 20000)")},
		{name: "ok/fee-budget-of-another-wallet", mutate: daily, req: pt.BTC("r", "btc-cold", pt.BTCHot, 1_000_000, t0), now: t0,
			snap: policy.Snapshot{Spends: snap.Spends}, effect: policy.EffectPending, rule: "refill"},
		{name: "ok/fee-budget-counts-erc20-fees-at-max", mutate: ethDaily, req: eth("e", pt.ETHCoinbase, "ETH", "1000"), now: t0,
			snap: usdcFee("7900000000000000"), effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "fail/fee-budget-counts-erc20-fees", mutate: ethDaily, req: eth("e", pt.ETHCoinbase, "ETH", "1000"), now: t0,
			snap: usdcFee("7900000000000001"), effect: policy.EffectDeny, rule: "",
			check: reasonHas("fee budget of eth-hot", "= 10000000000000001 (max 10000000000000000)")},
		{name: "ok/fee-budget-short-window-alongside-long",
			mutate: budgets(policy.FeeBudget{Wallet: "btc-hot", Window: hours(1), MaxFee: policy.MustAmount("6000")},
				policy.FeeBudget{Wallet: "btc-hot", Window: hours(24), MaxFee: policy.MustAmount("1000000")}),
			req: sweep(5000), now: t0, effect: policy.EffectAllow, rule: "sweep-btc",
			snap: policy.Snapshot{Spends: []policy.Spend{feeSpend(t0.Add(-2*time.Hour), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "1", "2000")}}},
		{name: "fail/fee-budget-short-window",
			mutate: budgets(policy.FeeBudget{Wallet: "btc-hot", Window: hours(1), MaxFee: policy.MustAmount("6000")},
				policy.FeeBudget{Wallet: "btc-hot", Window: hours(24), MaxFee: policy.MustAmount("1000000")}),
			req: sweep(5000), now: t0, effect: policy.EffectDeny, rule: "",
			snap:  policy.Snapshot{Spends: []policy.Spend{feeSpend(t0.Add(-30*time.Minute), "btc-hot", pt.BTCCold, "sweep-btc", "BTC", "1", "2000")}},
			check: reasonHas("fee budget of btc-hot over 1h0m0s", "2000 + this request's 5000 = 7000 (max 6000)")},
	}
	runEvaluateCases(t, tests)
}

// TestEvaluateFeeCaps: the relative cap (native assets only, per chain or
// per rule), the btc fee rate ceiling and the eth priority fee cap.
func TestEvaluateFeeCaps(t *testing.T) {
	sweep := func(amount, fee uint64) policy.Request {
		r := pt.BTC("s", "btc-hot", pt.BTCCold, amount, t0)
		r.Fee = policy.AmountFromUint64(fee)
		return r
	}
	btcBps := func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeBps = u64(100) }
	ethBps := func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainETH).MaxFeeBps = u64(1) }
	ruleBps := func(t *testing.T, d *policy.Document) { rule(t, d, "sweep-btc").MaxFeeBps = u64(100) }
	rate := func(t *testing.T, d *policy.Document) { feeCap(t, d, policy.ChainBTC).MaxFeeRate = u64(300) }
	prio := func(t *testing.T, d *policy.Document) {
		feeCap(t, d, policy.ChainETH).MaxPriorityFeePerGas = amt("5000000000")
	}
	withTip := func(r policy.Request, tip string) policy.Request {
		r.ETH.MaxPriorityFeePerGas = policy.MustAmount(tip)
		return r
	}
	withVSize := func(r policy.Request, vsize uint64) policy.Request {
		r.VSize = vsize
		return r
	}
	tests := []evalCase{
		// Relative cap on the chain.
		{name: "ok/relative-cap-at-bps", mutate: btcBps, req: sweep(500_000, 5000), now: t0, effect: policy.EffectAllow, rule: "sweep-btc",
			check: traceHas("fee 5000 within the btc caps: max_fee 100000, 100 bps of the amount (max 5000)")},
		{name: "fail/relative-cap-exceeded", mutate: btcBps, req: sweep(499_999, 5000), now: t0, effect: policy.EffectDeny, rule: "",
			check: reasonHas("fee 5000 exceeds 100 bps of the amount 499999 (at most 4999) (the btc cap)")},
		{name: "ok/relative-cap-eth-at-bps", mutate: ethBps, req: eth("e", pt.ETHCoinbase, "ETH", "21000000000000000000"), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "fail/relative-cap-eth", mutate: ethBps, req: eth("e", pt.ETHCoinbase, "ETH", "20999999999999999999"), now: t0,
			effect: policy.EffectDeny, rule: "", check: reasonHas("fee 2100000000000000 exceeds 1 bps", "(at most 2099999999999999)")},
		{name: "ok/relative-cap-skips-tokens", mutate: ethBps, req: eth("u", pt.ETHCoinbase, "USDC", "5000000"), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-usdc"},
		// Relative cap on a rule.
		{name: "ok/rule-relative-cap-at-bps", mutate: ruleBps, req: sweep(500_000, 5000), now: t0, effect: policy.EffectAllow, rule: "sweep-btc",
			check: traceHas("rule sweep-btc: fee 5000 within 100 bps of the amount (max 5000)")},
		{name: "fail/rule-relative-cap-exceeded", mutate: ruleBps, req: sweep(499_999, 5000), now: t0, effect: policy.EffectDeny, rule: "sweep-btc",
			check: reasonHas("rule sweep-btc: fee 5000 exceeds 100 bps of the amount 499999 (at most 4999)")},
		{name: "ok/rule-relative-cap-binds-only-its-rule", mutate: ruleBps, req: pt.BTC("w", "btc-hot", pt.BTCKraken, 1000, t0), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-btc"},
		// BTC fee rate ceiling: ⌈fee / vsize⌉ sat/vB.
		{name: "ok/fee-rate-at-ceiling", mutate: rate, req: withVSize(sweep(1_000_000, 42_300), 141), now: t0,
			effect: policy.EffectAllow, rule: "sweep-btc", check: traceHas(", rate 300 sat/vB (max 300)")},
		{name: "fail/fee-rate-above-ceiling", mutate: rate, req: withVSize(sweep(1_000_000, 42_301), 141), now: t0,
			effect: policy.EffectDeny, rule: "", check: reasonHas("fee rate 301 sat/vB (fee 42301 over 141 vB, rounded up) exceeds the btc ceiling 300 sat/vB")},
		{name: "fail/fee-rate-without-vsize", mutate: rate, req: withVSize(sweep(1_000_000, 100), 0), now: t0,
			effect: policy.EffectDeny, rule: "", check: reasonHas("needs the transaction's vsize")},
		{name: "ok/no-fee-rate-ceiling-no-vsize-needed", req: withVSize(sweep(1_000_000, 5000), 0), now: t0,
			effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "fail/eth-request-with-vsize", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.VSize = 141
			return r
		}(), now: t0, effect: policy.EffectDeny, rule: ""},
		// ETH priority fee.
		{name: "ok/priority-fee-at-cap", mutate: prio, req: withTip(eth("e", pt.ETHCoinbase, "ETH", "1000"), "5000000000"), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-eth", check: traceHas(", priority fee 5000000000 wei/gas (max 5000000000)")},
		{name: "fail/priority-fee-over-cap", mutate: prio, req: withTip(eth("e", pt.ETHCoinbase, "ETH", "1000"), "5000000001"), now: t0,
			effect: policy.EffectDeny, rule: "", check: reasonHas("priority fee 5000000001 wei/gas exceeds the eth cap 5000000000 wei/gas")},
		{name: "fail/priority-fee-over-cap-erc20", mutate: prio, req: withTip(eth("u", pt.ETHCoinbase, "USDC", "1000"), "5000000001"), now: t0,
			effect: policy.EffectDeny, rule: ""},
		{name: "ok/priority-fee-equal-to-max-fee-per-gas", req: withTip(eth("e", pt.ETHCoinbase, "ETH", "1000"), "100000000000"), now: t0,
			effect: policy.EffectAllow, rule: "withdraw-eth"},
		{name: "fail/priority-fee-above-max-fee-per-gas", req: withTip(eth("e", pt.ETHCoinbase, "ETH", "1000"), "100000000001"), now: t0,
			effect: policy.EffectDeny, rule: "", check: reasonHas("priority fee 100000000001 wei/gas exceeds max_fee_per_gas 100000000000")},
	}
	runEvaluateCases(t, tests)
}
