package workflow

import (
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/ledger"
)

// View is what clients see of a request: its state, the summary decoded
// from the transaction this node built, what is still missing, the result.
func (w *Workflow) View(t ledger.Transfer) *transferpb.Transfer {
	v := recordView(t)
	now := w.now().UTC()
	pv, err := w.policy(now)
	if err != nil || pv.Hash != t.PolicyHash {
		return v
	}
	b, err := w.gate.Rebuild(pv, t)
	if err != nil {
		return v
	}
	v.Summary, v.Review = b.Summary, b.Review()
	if !t.State.Final() && t.State != ledger.StateSigning {
		if d, _, err := w.gate.Decide(pv, b, t, now); err == nil {
			for _, m := range d.Missing {
				v.Missing = append(v.Missing, m.Text)
			}
			v.Trace = d.Trace
		}
	}
	return v
}

// ListView is View for a row of a list. A request that is final or
// signing shows what its ledger record says (RecordSummary: no fee,
// inputs or review), so a page of history costs no transaction builds;
// an open one is shown in full, with what it misses.
func (w *Workflow) ListView(t ledger.Transfer) *transferpb.Transfer {
	if !t.State.Final() && t.State != ledger.StateSigning {
		return w.View(t)
	}
	v := recordView(t)
	if pv, err := w.policy(w.now().UTC()); err == nil {
		v.Summary = pv.RecordSummary(t)
	}
	return v
}

// recordView is the part of a view the ledger record gives.
func recordView(t ledger.Transfer) *transferpb.Transfer {
	v := &transferpb.Transfer{RequestId: t.ID, State: string(t.State), Digest: t.Digest, Home: t.Home, Rule: t.Rule,
		Reason: t.Reason, PolicyHash: t.PolicyHash, SubmittedAtUnix: t.SubmittedAt.Unix(), ExpiresAtUnix: t.ExpiresAt.Unix(),
		Initiator: t.Initiator, Attempts: int32(t.Attempts),
		PossiblySigned: t.State == ledger.StateSigning && t.Reservation != nil && t.Reservation.PossiblySigned}
	if !t.NotBefore.IsZero() {
		v.NotBeforeUnix = t.NotBefore.Unix()
	}
	for _, a := range t.Approvals {
		v.Approvals = append(v.Approvals, &transferpb.ApprovalView{Officer: a.Officer, Verdict: a.Verdict, AtUnix: a.At.Unix()})
	}
	if t.Result != nil {
		v.SignedTx, v.TxHash = t.Result.SignedTx, t.Result.TxHash
	}
	return v
}
