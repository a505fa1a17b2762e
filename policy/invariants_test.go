package policy_test

import (
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

func TestEvaluateInvariants(t *testing.T) {
	btc := func(id, source, to string, amount uint64) policy.Request { return pt.BTC(id, source, to, amount, t0) }
	refill := btc("refill-1", "btc-cold", pt.BTCHot, 100_000_000)
	d := func(r policy.Request) policy.Hash { return r.Digest }
	tests := []evalCase{
		{name: "fail/network-mismatch", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.Network = "testnet"
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/chain-id-mismatch", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.ChainID = 5
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/eth-calldata-on-value-transfer", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.ETH.Data = []byte{0xde, 0xad, 0xbe, 0xef}
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/eth-contract-creation", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.ETH.To = ""
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/eth-tx-pays-another-address", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.ETH.To = pt.ETHStranger
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/eth-tx-value-differs", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.ETH.Value = policy.MustAmount("1001")
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/erc20-recipient-differs", req: func() policy.Request {
			r := eth("u", pt.ETHCoinbase, "USDC", "1000")
			r.ETH.Data = pt.ERC20Transfer(pt.ETHStranger, policy.MustAmount("1000"))
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/erc20-amount-differs", req: func() policy.Request {
			r := eth("u", pt.ETHCoinbase, "USDC", "1000")
			r.ETH.Data = pt.ERC20Transfer(pt.ETHCoinbase, policy.MustAmount("1000000"))
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/erc20-other-selector", req: func() policy.Request {
			r := eth("u", pt.ETHCoinbase, "USDC", "1000")
			r.ETH.Data[0] = 0x09 // approve(address,uint256) is 0x095ea7b3
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/erc20-call-to-another-contract", req: func() policy.Request {
			r := eth("u", pt.ETHCoinbase, "USDC", "1000")
			r.ETH.To = pt.ETHStranger
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/erc20-with-eth-value", req: func() policy.Request {
			r := eth("u", pt.ETHCoinbase, "USDC", "1000")
			r.ETH.Value = policy.MustAmount("1")
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/eth-fee-is-not-the-tx-max-fee", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.Fee = policy.MustAmount("1")
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/eth-fee-over-cap", req: func() policy.Request {
			r := eth("e", pt.ETHCoinbase, "ETH", "1000")
			r.ETH.MaxFeePerGas = policy.MustAmount("1000000000000") // 21000 × 1000 gwei = 0.021 ETH
			r.Fee = r.ETH.MaxFeePerGas.Mul64(r.ETH.GasLimit)
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/btc-fee-over-cap", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.Fee = policy.MustAmount("100001")
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "ok/btc-fee-at-cap", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.Fee = policy.MustAmount("100000")
			return r
		}(), now: t0, effect: policy.EffectAllow, rule: "sweep-btc"},
		{name: "fail/btc-request-with-eth-call", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.ETH = &policy.ETHTx{To: pt.ETHCold}
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "ok/refill-approved-after-its-timelock", req: refill, now: t0.Add(7 * time.Hour),
			snap:   policy.Snapshot{Approvals: []policy.Approval{pt.Approve("tom", d(refill), t0.Add(time.Hour)), pt.Approve("tina", d(refill), t0.Add(time.Hour))}},
			effect: policy.EffectAllow, rule: "refill"},
		{name: "fail/asset-of-another-chain", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.Asset = "ETH"
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/unknown-source-wallet", req: btc("s", "btc-warm", pt.BTCCold, 1000), now: t0, effect: policy.EffectDeny},
		{name: "fail/malformed-request", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.Digest = policy.Hash{}
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/zero-amount", req: btc("s", "btc-hot", pt.BTCCold, 0), now: t0, effect: policy.EffectDeny},
		{name: "fail/request-expired", req: func() policy.Request {
			r := btc("s", "btc-hot", pt.BTCCold, 1000)
			r.ExpiresAt = t0
			return r
		}(), now: t0, effect: policy.EffectDeny},
		{name: "fail/destination-not-an-address", req: btc("s", "btc-hot", "not an address!", 1000), now: t0, effect: policy.EffectDeny},
	}
	runEvaluateCases(t, tests)
}
