package policy

import (
	"math/big"
	"strconv"
	"strings"
	"time"
)

// apply decides under the matched rule r.
func (ev *evaluation) apply(r *rule, rq *resolved) {
	if r.r.Action == ActionDeny {
		ev.deny("rule " + r.r.ID + " denies")
		return
	}
	if why := ev.ruleFee(r, rq); why != "" {
		ev.deny(why)
		return
	}
	if why := ev.limits(r, rq); why != "" {
		ev.deny(why)
		return
	}
	ap := ev.collectApprovals(r)
	if ap.vetoBy != "" {
		ev.deny("vetoed by " + ap.vetoBy)
		return
	}
	var missing []Missing
	if r.r.Action == ActionRequireApproval {
		for _, o := range ap.approvers {
			if !r.inTermGroup(ev.p, o) {
				ev.trace("approval by officer " + o + " does not count: not in a group this rule requires")
			}
		}
		ok, used, miss := r.approvalsMet(ev.p, ap.approvers)
		ev.d.Approvers = used
		if ok {
			ev.trace("approvals met by " + joinIDs(used))
		}
		missing = append(missing, miss...)
	}
	if r.timelock > 0 {
		until := ev.req.SubmittedAt.UTC().Add(r.timelock)
		ev.d.NotBefore = until
		if ev.now.Before(until) {
			missing = append(missing, Missing{Kind: MissingTimelock, Until: until,
				Text: "timelock " + r.timelock.String() + " until " + until.Format(time.RFC3339Nano)})
		} else {
			ev.trace("timelock " + r.timelock.String() + " ended at " + until.Format(time.RFC3339Nano))
		}
	}
	if len(missing) > 0 {
		ev.d.Effect = EffectPending
		ev.d.Missing = missing
		ev.d.Reason = "rule " + r.r.ID + " waits"
		for _, m := range missing {
			ev.d.Reason += "; " + m.Text
			ev.trace("missing: " + m.Text)
		}
		ev.trace("decision: pending")
		return
	}
	ev.d.Effect = EffectAllow
	ev.d.Reason = "rule " + r.r.ID + " allows"
	ev.trace("decision: allow")
}

// limits checks every sliding window of r; the request itself counts.
// Each limit adds one trace line; the first exceeded one is the denial.
// A source-scoped amount of the native asset also counts fees (every
// spend's from the source, and the request's): see Limit.
func (ev *evaluation) limits(r *rule, rq *resolved) string {
	var sum big.Int
	fees := &ev.feeSum
	buf := ev.scratch()
	horizon := ev.st.spends.horizon()
	for i, l := range r.r.Limits {
		since := ev.now.Add(-l.Window.D())
		w := window{sum: sum.SetInt64(0)}
		withFees := false
		buf = append(buf[:0], "limit "...)
		switch l.Scope {
		case ScopeRule:
			buf = append(append(buf, "rule "...), r.r.ID...)
			ev.st.spends.addWindow(&w, ScopeRule, r.r.ID, rq.asset.id, since)
		case ScopeSource:
			buf = append(append(buf, "source "...), rq.src.w.ID...)
			ev.st.spends.addWindow(&w, ScopeSource, rq.src.w.ID, rq.asset.id, since)
			if withFees = l.MaxAmount != nil && rq.asset.contract == ""; withFees {
				fees.SetInt64(0)
				ev.st.spends.addFees(fees, rq.src.w.ID, since)
				fees.Add(fees, ev.req.Fee.big())
			}
		case ScopeDestination:
			buf = append(buf, "destination "...)
			if rq.dst != nil {
				buf = append(buf, rq.dst.w.ID...)
				for _, a := range rq.dst.w.Addresses {
					ev.st.spends.addWindow(&w, ScopeDestination, a, rq.asset.id, since)
				}
			} else {
				buf = append(buf, rq.to...)
				ev.st.spends.addWindow(&w, ScopeDestination, rq.to, rq.asset.id, since)
			}
		}
		buf = since.AppendFormat(append(buf, r.windows[i]...), time.RFC3339Nano)
		if since.Before(horizon) {
			return string(buf) + ": cannot be checked, this node holds spends only from " + horizon.Format(time.RFC3339Nano)
		}
		count := w.count + 1
		total := w.sum.Add(w.sum, ev.req.Amount.big())
		over := false
		if l.MaxCount > 0 {
			buf = strconv.AppendInt(append(buf, ": "...), int64(count), 10)
			buf = strconv.AppendInt(append(buf, " transfers incl. this one (max "...), int64(l.MaxCount), 10)
			buf = append(buf, ')')
			over = count > l.MaxCount
		}
		if l.MaxAmount != nil && !over {
			amounts := total
			if withFees {
				total = ev.feeTotal.Add(amounts, fees)
			}
			buf = appendBig(append(buf, ": "...), total)
			buf = append(append(append(buf, ' '), rq.asset.id...), " incl. this one"...)
			if withFees {
				buf = appendBig(append(buf, " and fees ("...), amounts)
				buf = append(appendBig(append(buf, " + fees "...), fees), ')')
			}
			buf = append(appendBig(append(buf, " (max "...), l.MaxAmount.big()), ')')
			over = total.Cmp(l.MaxAmount.big()) > 0
		}
		if over {
			return string(buf)
		}
		ev.traceLine(buf)
	}
	return ""
}

func joinIDs(ids []string) string { return strings.Join(ids, ", ") }

// appendBig appends v in decimal, without allocating when it fits 64 bits.
func appendBig(buf []byte, v *big.Int) []byte {
	if v.IsUint64() {
		return strconv.AppendUint(buf, v.Uint64(), 10)
	}
	return v.Append(buf, 10)
}
