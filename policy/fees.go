package policy

import (
	"math/big"
	"math/bits"
	"strconv"
	"time"
)

// This file checks a request's fee: the chain's caps (absolute, relative
// to the amount, btc fee rate, eth priority fee) and the source wallet's
// fee budgets. Fees are money leaving the wallet as surely as the amount:
// a colluding miner or validator is paid by them, so every bound is
// integer math on exact values and a missing input denies.

// fees returns why the request's fee breaks a bound, or "" after tracing
// what held. Every denial names the bound and both numbers.
func (ev *evaluation) fees(rq *resolved) string {
	req, chain := ev.req, rq.src.w.Chain
	fc := ev.p.feeCaps[chain]
	if fc == nil {
		return "no fee cap for " + string(chain) // compile refuses this; fail closed anyway
	}
	if req.Fee.Cmp(fc.maxFee) > 0 {
		return "fee " + req.Fee.String() + " exceeds the " + string(chain) + " cap " + fc.maxFee.String()
	}
	buf := appendBig(append(ev.scratch(), "fee "...), req.Fee.big())
	buf = append(append(append(buf, " within the "...), chain...), " caps: max_fee "...)
	buf = appendBig(buf, fc.maxFee.big())
	if fc.bps > 0 && rq.asset.contract == "" {
		buf = strconv.AppendUint(append(buf, ", "...), fc.bps, 10)
		buf = append(buf, " bps of the amount (max "...)
		var ok bool
		if buf, ok = appendBpsMost(buf, req.Fee, req.Amount, fc.bps); !ok {
			return bpsDenial(req.Fee, req.Amount, fc.bps) + " (the " + string(chain) + " cap)"
		}
		buf = append(buf, ')')
	}
	if fc.rate > 0 {
		if req.VSize == 0 {
			return "the btc fee rate ceiling " + strconv.FormatUint(fc.rate, 10) + " sat/vB needs the transaction's vsize; the request has none"
		}
		var over bool
		buf, over = appendFeeRate(append(buf, ", rate "...), req.Fee, req.VSize, fc.rate)
		if over {
			rate, _ := appendFeeRate(nil, req.Fee, req.VSize, fc.rate)
			return "fee rate " + string(rate) + " sat/vB (fee " + req.Fee.String() + " over " + strconv.FormatUint(req.VSize, 10) +
				" vB, rounded up) exceeds the btc ceiling " + strconv.FormatUint(fc.rate, 10) + " sat/vB"
		}
		buf = strconv.AppendUint(append(buf, " sat/vB (max "...), fc.rate, 10)
		buf = append(buf, ')')
	}
	if fc.prio != nil && req.ETH != nil {
		tip := req.ETH.MaxPriorityFeePerGas
		if tip.Cmp(*fc.prio) > 0 {
			return "priority fee " + tip.String() + " wei/gas exceeds the eth cap " + fc.prio.String() + " wei/gas"
		}
		buf = appendBig(append(buf, ", priority fee "...), tip.big())
		buf = append(appendBig(append(buf, " wei/gas (max "...), fc.prio.big()), ')')
	}
	ev.traceLine(buf)
	for _, b := range rq.src.budgets {
		if why := ev.budget(rq, b); why != "" {
			return why
		}
	}
	return ""
}

// budget checks one of the source wallet's fee budgets: the fees of its
// spends in the window plus the request's.
func (ev *evaluation) budget(rq *resolved, b feeBudget) string {
	since := ev.now.Add(-b.window)
	line := since.AppendFormat(append(ev.scratch(), b.line...), time.RFC3339Nano)
	if h := ev.st.spends.horizon(); since.Before(h) {
		return string(line) + ": cannot be checked, this node holds spends only from " + h.Format(time.RFC3339Nano)
	}
	sum := ev.feeSum.SetInt64(0)
	ev.st.spends.addFees(sum, rq.src.w.ID, since)
	line = appendBig(append(line, ": "...), sum)
	line = appendBig(append(line, " + this request's "...), ev.req.Fee.big())
	total := sum.Add(sum, ev.req.Fee.big())
	line = appendBig(append(line, " = "...), total)
	line = append(appendBig(append(line, " (max "...), b.maxFee.big()), ')')
	if total.Cmp(b.maxFee.big()) > 0 {
		return string(line)
	}
	ev.traceLine(line)
	return ""
}

// ruleFee checks the matched rule's relative fee cap, or returns "".
func (ev *evaluation) ruleFee(r *rule, rq *resolved) string {
	if r.maxFeeBps == 0 {
		return ""
	}
	if rq.asset.contract != "" {
		return "rule " + r.r.ID + ": its relative fee cap cannot compare a token amount with the fee" // compile refuses this
	}
	buf := appendBig(append(append(append(ev.scratch(), "rule "...), r.r.ID...), ": fee "...), ev.req.Fee.big())
	buf = strconv.AppendUint(append(buf, " within "...), r.maxFeeBps, 10)
	buf = append(buf, " bps of the amount (max "...)
	buf, ok := appendBpsMost(buf, ev.req.Fee, ev.req.Amount, r.maxFeeBps)
	if !ok {
		return "rule " + r.r.ID + ": " + bpsDenial(ev.req.Fee, ev.req.Amount, r.maxFeeBps)
	}
	ev.traceLine(append(buf, ')'))
	return ""
}

// appendBpsMost appends ⌊amount × bps / 10000⌋, the most fee bps basis
// points of amount allow, and reports whether fee is within it (for
// integers, fee ≤ ⌊x / 10000⌋ exactly when fee × 10000 ≤ x). bps ≤ 10000,
// as compile checks, so the 128-bit quotient fits 64 bits.
func appendBpsMost(buf []byte, fee, amount Amount, bps uint64) ([]byte, bool) {
	a, f := amount.big(), fee.big()
	if a.IsUint64() {
		hi, lo := bits.Mul64(a.Uint64(), bps)
		most, _ := bits.Div64(hi, lo, maxBps)
		return strconv.AppendUint(buf, most, 10), f.IsUint64() && f.Uint64() <= most
	}
	most := new(big.Int).Mul(a, new(big.Int).SetUint64(bps))
	most.Quo(most, big.NewInt(maxBps))
	return most.Append(buf, 10), f.Cmp(most) <= 0
}

// bpsDenial says how far fee is over bps of amount.
func bpsDenial(fee, amount Amount, bps uint64) string {
	most, _ := appendBpsMost(nil, fee, amount, bps)
	return "fee " + fee.String() + " exceeds " + strconv.FormatUint(bps, 10) + " bps of the amount " + amount.String() +
		" (at most " + string(most) + ")"
}

// appendFeeRate appends ⌈fee / vsize⌉ in decimal and reports whether it is
// above ceiling (fee > ceiling × vsize, the same test without rounding).
// vsize > 0.
func appendFeeRate(buf []byte, fee Amount, vsize, ceiling uint64) ([]byte, bool) {
	f := fee.big()
	if f.IsUint64() {
		v := f.Uint64()
		hi, lo := bits.Mul64(ceiling, vsize)
		q := v / vsize
		if v%vsize != 0 {
			q++
		}
		return strconv.AppendUint(buf, q, 10), hi == 0 && v > lo
	}
	vs := new(big.Int).SetUint64(vsize)
	q := new(big.Int).Add(f, new(big.Int).Sub(vs, big.NewInt(1)))
	q.Quo(q, vs)
	return q.Append(buf, 10), f.Cmp(new(big.Int).Mul(new(big.Int).SetUint64(ceiling), vs)) > 0
}
