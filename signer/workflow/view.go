package workflow

import (
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/ledger"
)

// view is what clients see of a request: its state, the summary decoded
// from the transaction this node built, what is still missing, the result.
func (w *Workflow) View(t ledger.Transfer) *transferpb.Transfer {
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
