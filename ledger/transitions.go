package ledger

import (
	"fmt"
	"slices"
	"time"
)

// timeFormat is how errors print times.
const timeFormat = time.RFC3339Nano

// transitions is what set_state may do: from a state to the states listed.
// signing and signed are never targets (only reserve and complete lead
// there), failed is never a target (only release leads there), and final
// states have no exits. A self-transition updates reason, rule or
// not_before after a re-evaluation.
var transitions = map[TransferState][]TransferState{
	StatePendingApproval: {StatePendingApproval, StateTimelocked, StateReady, StateDenied, StateExpired},
	StateTimelocked:      {StateTimelocked, StatePendingApproval, StateReady, StateDenied, StateExpired},
	StateReady:           {StateReady, StatePendingApproval, StateTimelocked, StateDenied, StateExpired},
	StateFailed:          {StateReady, StatePendingApproval, StateTimelocked, StateDenied, StateExpired},
	// A transfer denied or expired while signing keeps its reservation:
	// a signature may exist, so its outpoints/nonce stay consumed and its
	// spend keeps counting.
	StateSigning: {StateDenied, StateExpired},
}

// CanSet reports whether set_state may move a transfer from one state to
// another.
func CanSet(from, to TransferState) bool { return slices.Contains(transitions[from], to) }

// setState moves a transfer along the table after its proposer
// re-evaluated it. Reason, Rule and NotBefore replace the stored ones when
// given. Becoming ready needs the command's time at or after NotBefore;
// becoming timelocked needs a NotBefore.
func (l *ledgerTx) setState(cmd Command) (Transfer, bool, error) {
	t, err := l.mustTransfer(cmd.ID)
	if err != nil {
		return Transfer{}, false, err
	}
	if t.State.Final() {
		return Transfer{}, false, fmt.Errorf("%w: %s", ErrFinal, t.State)
	}
	if !CanSet(t.State, cmd.State) {
		return Transfer{}, false, &TransitionError{From: t.State, To: cmd.State}
	}
	next := t
	next.State = cmd.State
	if cmd.Reason != "" {
		next.Reason = cmd.Reason
	}
	if cmd.Rule != "" {
		next.Rule = cmd.Rule
	}
	if !cmd.NotBefore.IsZero() {
		next.NotBefore = cmd.NotBefore
	}
	switch {
	case next.State == StateTimelocked && next.NotBefore.IsZero():
		return Transfer{}, false, invalid("a timelocked transfer needs not_before")
	case next.State == StateReady && cmd.At.Before(next.NotBefore):
		return Transfer{}, false, fmt.Errorf("%w: ready at %s before not_before %s", ErrTimelocked,
			cmd.At.Format(timeFormat), next.NotBefore.Format(timeFormat))
	}
	if next.State == t.State && next.Reason == t.Reason && next.Rule == t.Rule && next.NotBefore.Equal(t.NotBefore) {
		return t, false, nil
	}
	next.UpdatedAt = cmd.At
	return next, true, nil
}
