package gate

import (
	"fmt"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// approvalsState is the policy state without spends: the transfer's
// recorded approvals, each verified when it was recorded, and when the
// destination's whitelist entries activate on this node.
func approvalsState(t ledger.Transfer, acts []policy.WhitelistActivation) (policy.State, error) {
	snap := policy.Snapshot{WhitelistActivations: acts}
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
// and clock: its approvals, and the limit totals of every other
// transfer's reserved or signed spend as the log stood at the returned
// index (a reservation names it, so the log refuses the reservation if
// another spend changed since).
func (g *Gate) Decide(pv *PolicyView, b *Built, t ledger.Transfer, now time.Time) (policy.Decision, uint64, error) {
	acts, err := g.whitelistActivations(pv, b, now)
	if err != nil {
		return policy.Decision{}, 0, err
	}
	st, err := approvalsState(t, acts)
	if err != nil {
		return policy.Decision{}, 0, err
	}
	req := b.Req
	// A timelock runs from when this node saw the request (less the skew
	// replication and clocks may show), if that is later than the time its
	// home node stamped on it: a compromised home cannot backdate a request
	// past the others' timelocks by more than seenSkew.
	if t.ID != "" {
		seen, ok, err := g.store.SeenAt(t.ID)
		if err != nil {
			return policy.Decision{}, 0, err
		}
		if !ok {
			seen = now
		}
		if start := seen.Add(-seenSkew); start.After(req.SubmittedAt) {
			req.SubmittedAt = start
		}
	}
	if err := g.spends.cover(pv.Window); err != nil {
		return policy.Decision{}, 0, fmt.Errorf("load limit totals: %w", err)
	}
	var (
		d     policy.Decision
		index uint64
	)
	g.spends.book.Read(func(v policy.BookView) {
		d, index = policy.Evaluate(pv.Policy, st.WithBook(v, t.ID), req, now), v.Index()
	})
	return d, index, nil
}

// whitelistActivations is, for each whitelist entry of the request's
// destination, when this node activates it: its first sight of the entry
// (ledger.MarkWhitelistSeen) plus the whitelist's active_after. An entry
// this node has no record of was never seen in an effective version: it
// counts as seen now. The policy takes the later of this and the entry's
// added_at + active_after.
func (g *Gate) whitelistActivations(pv *PolicyView, b *Built, now time.Time) ([]policy.WhitelistActivation, error) {
	refs := pv.Whitelisted[addrKey(string(b.Src.Chain), b.Req.To)]
	out := make([]policy.WhitelistActivation, 0, len(refs))
	for _, r := range refs {
		seen, ok, err := g.store.WhitelistSeen(r.Key)
		if err != nil {
			return nil, err
		}
		if !ok {
			seen = now
		}
		out = append(out, policy.WhitelistActivation{Whitelist: r.Key.Whitelist, Address: r.Key.Address, ActiveFrom: seen.Add(r.ActiveAfter)})
	}
	return out, nil
}

// seenSkew is how much earlier than this node saw it a request may have
// been stamped without its timelock moving.
const seenSkew = 2 * time.Second

// stateFor maps a decision to the transfer state it leads to.
func StateFor(d policy.Decision) ledger.TransferState {
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
