package signer

import (
	"fmt"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// snapshot is the policy state as this node's ledger knows it: the
// transfer's recorded approvals (each verified when it was recorded) and
// the reserved or signed spends of other transfers inside the policy's
// longest limit window (older ones can change no decision, and a decision
// never reads them, however long the history).
func (n *Node) snapshot(pv *policyView, t ledger.Transfer, now time.Time) (policy.State, error) {
	var snap policy.Snapshot
	var spends []ledger.Spend
	if pv.window > 0 {
		var err error
		if spends, err = n.store.SpendsExcept(now.Add(-pv.window), t.ID); err != nil {
			return policy.State{}, fmt.Errorf("read spends: %w", err)
		}
	}
	for _, s := range spends {
		amt, err := policy.ParseAmount(s.Amount)
		if err != nil {
			return policy.State{}, fmt.Errorf("spend of %s: %w", s.Source, err)
		}
		snap.Spends = append(snap.Spends, policy.Spend{At: s.At, Source: s.Source, To: s.To, Rule: s.Rule, Asset: s.Asset, Amount: amt})
	}
	for _, a := range t.Approvals {
		var v policy.Verdict
		if err := v.UnmarshalText([]byte(a.Verdict)); err != nil {
			return policy.State{}, err
		}
		snap.Approvals = append(snap.Approvals, policy.Approval{Officer: a.Officer, Verdict: v, Digest: policy.Hash(t.Digest), At: a.At})
	}
	return policy.NewState(snap)
}

// decide evaluates the policy for a built transfer on this node's state
// and clock.
func (n *Node) decide(pv *policyView, b *built, t ledger.Transfer, now time.Time) (policy.Decision, error) {
	st, err := n.snapshot(pv, t, now)
	if err != nil {
		return policy.Decision{}, err
	}
	req := b.req
	// A timelock runs from when this node saw the request (less the skew
	// replication and clocks may show), if that is later than the time its
	// home node stamped on it: a compromised home cannot backdate a request
	// past the others' timelocks by more than seenSkew.
	if t.ID != "" {
		seen, ok, err := n.store.SeenAt(t.ID)
		if err != nil {
			return policy.Decision{}, err
		}
		if !ok {
			seen = now
		}
		if start := seen.Add(-seenSkew); start.After(req.SubmittedAt) {
			req.SubmittedAt = start
		}
	}
	return policy.Evaluate(pv.p, st, req, now), nil
}

// seenSkew is how much earlier than this node saw it a request may have
// been stamped without its timelock moving.
const seenSkew = 2 * time.Second

// stateFor maps a decision to the transfer state it leads to.
func stateFor(d policy.Decision) ledger.TransferState {
	switch d.Effect {
	case policy.EffectAllow:
		return ledger.StateReady
	case policy.EffectPending:
		for _, m := range d.Missing {
			if m.Kind != policy.MissingTimelock {
				return ledger.StatePendingApproval
			}
		}
		return ledger.StateTimelocked
	default:
		return ledger.StateDenied
	}
}
