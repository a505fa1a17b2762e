package policy

import (
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Evaluate decides whether req may be signed at now under p, given what the
// ledger knows (st). It is pure and deterministic. Order: frozen → request
// well-formed → invariants (deny wins) → first matching rule → default deny.
// For the matched rule: deny action, then limits, then vetoes deny; missing
// approvals or an unexpired timelock leave it pending; otherwise allow.
func Evaluate(p *Policy, st State, req Request, now time.Time) Decision {
	ev := &evaluation{p: p, st: st.index(), req: req, now: now.UTC()}
	if p != nil {
		ev.d.Trace = make([]string, 0, len(p.rules)+24)
	}
	ev.run()
	return ev.d
}

type evaluation struct {
	p   *Policy
	st  *stateIndex
	req Request
	now time.Time
	d   Decision
	// Scratch space reused across the checks of one decision, so that it
	// allocates a trace line's bytes and a fee sum's digits once: line
	// builds a trace line (then copied into a string), feeSum and feeTotal
	// total fee windows.
	line             []byte
	feeSum, feeTotal big.Int
}

// resolved is the request mapped onto the policy.
type resolved struct {
	src      *walletInfo
	asset    *assetInfo
	to       string
	dst      *walletInfo // own destination wallet, nil if external
	wlActive []bool      // per whitelist index: address active in it now
}

func (ev *evaluation) trace(s string) { ev.d.Trace = append(ev.d.Trace, s) }

// scratch returns the line buffer, empty, to build a trace line in.
func (ev *evaluation) scratch() []byte {
	if ev.line == nil {
		ev.line = make([]byte, 0, 256)
	}
	return ev.line[:0]
}

// traceLine adds the line built in the scratch buffer and keeps the
// buffer, grown or not, for the next one.
func (ev *evaluation) traceLine(b []byte) {
	ev.trace(string(b))
	ev.line = b[:0]
}

func (ev *evaluation) deny(reason string) {
	ev.d.Effect = EffectDeny
	ev.d.Reason = reason
	ev.trace("decision: deny: " + reason)
}

func (ev *evaluation) run() {
	p := ev.p
	if p == nil {
		ev.deny("no policy")
		return
	}
	ev.d.PolicyHash = p.hash
	ev.trace(p.traceHead + ev.now.Format(time.RFC3339Nano))
	if ev.st.frozen {
		ev.deny("signing is frozen")
		return
	}
	rq, why := ev.resolve()
	if why != "" {
		ev.deny(why)
		return
	}
	if why := ev.invariants(rq); why != "" {
		ev.deny("invariant: " + why)
		return
	}
	ev.trace("invariants hold")
	for _, r := range p.rules {
		if miss := r.mismatch(ev, rq); miss >= 0 {
			ev.trace(r.noMatch[miss])
			continue
		}
		ev.trace(r.matched)
		ev.d.Rule = r.r.ID
		ev.apply(r, rq)
		return
	}
	ev.deny("no rule matches (default deny)")
}

func (ev *evaluation) resolve() (*resolved, string) {
	p, req := ev.p, ev.req
	if probs := req.problems(); len(probs) > 0 {
		return nil, "malformed request: " + strings.Join(probs, "; ")
	}
	if !req.ExpiresAt.IsZero() && !ev.now.Before(req.ExpiresAt) {
		return nil, "request expired at " + req.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	si, ok := p.walletIx[req.Source]
	if !ok {
		return nil, "unknown source wallet " + strconv.Quote(req.Source)
	}
	ai, ok := p.assetIx[req.Asset]
	if !ok {
		return nil, "unknown asset " + strconv.Quote(req.Asset)
	}
	rq := &resolved{src: p.wallets[si], asset: p.assets[ai], to: canonicalAddress(req.To)}
	if rq.asset.chain != rq.src.w.Chain {
		return nil, "asset " + req.Asset + " is not on " + string(rq.src.w.Chain)
	}
	if !validAddress(rq.src.w.Chain, rq.to) {
		return nil, "destination " + strconv.Quote(req.To) + " is not a valid " + string(rq.src.w.Chain) + " address"
	}
	desc := "external address " + rq.to
	if di, ok := p.addrWallet[netAddr{chain: rq.src.w.Chain, net: rq.src.net, addr: rq.to}]; ok {
		rq.dst = p.wallets[di]
		desc = "own wallet " + rq.dst.w.ID + " (" + string(rq.dst.w.Class) + ")"
	} else if hits := p.wlByAddr[chainAddr{chain: rq.src.w.Chain, addr: rq.to}]; len(hits) > 0 {
		rq.wlActive = make([]bool, len(p.whitelists))
		for _, h := range hits {
			wl := p.whitelists[h.wl]
			from := wl.activation(h.entry)
			if t, ok := ev.st.wlFrom[[2]string{wl.id, rq.to}]; ok && t.After(from) {
				from = t
			}
			if ev.now.Before(from) {
				desc += ", in whitelist " + wl.id + " (" + h.entry.Label + ") but not active until " + from.Format(time.RFC3339Nano)
				continue
			}
			rq.wlActive[h.wl] = true
			desc += ", active in whitelist " + wl.id + " (" + h.entry.Label + ")"
		}
	}
	ev.trace("request " + strconv.Quote(req.ID) + ": " + req.Amount.String() + " " + req.Asset + " from " + rq.src.w.ID +
		" (" + string(rq.src.w.Class) + ") to " + desc + ", initiator " + strconv.Quote(req.Initiator) + " role " + strconv.Quote(req.InitiatorRole))
	return rq, ""
}

// mismatch returns the first dimension of r that req does not match, or -1.
func (r *rule) mismatch(ev *evaluation, rq *resolved) int {
	switch {
	case !r.src[rq.src.idx]:
		return dimSource
	case !r.assets[rq.asset.idx]:
		return dimAsset
	case !r.matchDest(rq):
		return dimDestination
	case !r.amountInRange(ev.req.Amount.big()):
		return dimAmount
	case !r.m.anyRole && !r.m.roles[ev.req.InitiatorRole]:
		return dimRole
	}
	return -1
}

func (r *rule) amountInRange(a *big.Int) bool {
	if r.boundsFit && a.IsUint64() {
		v := a.Uint64()
		return v >= r.minU && (r.maxUnbounded || v <= r.maxU)
	}
	return a.Cmp(r.m.min) >= 0 && (r.m.max == nil || a.Cmp(r.m.max) <= 0)
}

func (r *rule) matchDest(rq *resolved) bool {
	if rq.dst != nil {
		return r.dstOwn[rq.dst.idx]
	}
	if r.dstExternal {
		return true
	}
	for i, ok := range rq.wlActive {
		if ok && r.dstWL[i] {
			return true
		}
	}
	return false
}
