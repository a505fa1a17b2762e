package signer

import (
	"fmt"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// snapshot is the policy state as this node's ledger knows it: the
// transfer's recorded approvals (each verified when it was recorded) and
// every reserved or signed spend.
func (n *Node) snapshot(t ledger.Transfer) (policy.State, error) {
	spends, err := n.store.Spends(time.Time{})
	if err != nil {
		return policy.State{}, fmt.Errorf("read spends: %w", err)
	}
	var snap policy.Snapshot
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
	st, err := n.snapshot(t)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.Evaluate(pv.p, st, b.req, now), nil
}

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
