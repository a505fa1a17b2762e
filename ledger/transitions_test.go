package ledger

import (
	"errors"
	"testing"
	"time"
)

// reach lists commands that bring transfer t1 into each state.
var reach = map[TransferState][]Command{
	StatePendingApproval: {submit("t1", StatePendingApproval)},
	StateTimelocked:      {submit("t1", StateTimelocked)},
	StateReady:           {submit("t1", StateReady)},
	StateSigning:         {submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0")},
	StateSigned:          {submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0"), completeCmd("t1", "s1", "tx")},
	StateDenied:          {submit("t1", StateDenied)},
	StateFailed:          {submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0"), releaseCmd("t1", "s1")},
	StateExpired:         {submit("t1", StatePendingApproval), setStateCmd("t1", StateExpired)},
}

var allStates = []TransferState{StatePendingApproval, StateTimelocked, StateReady, StateSigning,
	StateSigned, StateDenied, StateFailed, StateExpired}

// TestSetStateTable tries set_state for every pair of states and checks
// the outcome against the transition table.
func TestSetStateTable(t *testing.T) {
	for _, from := range allStates {
		for _, to := range allStates {
			name := "fail/"
			if CanSet(from, to) {
				name = "ok/"
			}
			t.Run(name+string(from)+"->"+string(to), func(t *testing.T) {
				s := openTemp(t)
				for _, c := range reach[from] {
					if _, err := s.Apply(c); err != nil {
						t.Fatal(err)
					}
				}
				cmd := with(setStateCmd("t1", to), func(c *Command) { c.At, c.Reason, c.NotBefore = at(7200), "re-evaluated", at(7200) })
				got, err := s.Apply(cmd)
				var te *TransitionError
				switch {
				case CanSet(from, to):
					if err != nil || got.State != to {
						t.Fatalf("got %s, %v; want %s", got.State, err, to)
					}
				case from.Final():
					if !errors.Is(err, ErrFinal) {
						t.Fatalf("error = %v, want ErrFinal", err)
					}
				case !errors.As(err, &te) || te.From != from || te.To != to || !errors.Is(err, ErrTransition):
					t.Fatalf("error = %v, want a TransitionError %s -> %s", err, from, to)
				}
			})
		}
	}
}

func TestApplySetState(t *testing.T) {
	cases := []applyCase{
		{name: "ok/pending to ready with reason and rule", setup: reach[StatePendingApproval],
			cmd: with(setStateCmd("t1", StateReady), func(c *Command) { c.Reason, c.Rule = "2 of 2 treasury", "refill" }),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.Reason != "2 of 2 treasury" || got.Rule != "refill" || !got.UpdatedAt.Equal(at(20)) {
					t.Fatalf("got %+v", got)
				}
			}},
		{name: "ok/pending to timelocked sets not_before", setup: reach[StatePendingApproval],
			cmd: with(setStateCmd("t1", StateTimelocked), func(c *Command) { c.NotBefore = at(600) }),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if !got.NotBefore.Equal(at(600)) {
					t.Fatalf("not_before = %s", got.NotBefore)
				}
			}},
		{name: "ok/timelocked to ready once not_before passed", setup: reach[StateTimelocked],
			cmd: with(setStateCmd("t1", StateReady), func(c *Command) { c.At = at(3600) })},
		{name: "ok/same state with a new reason", setup: reach[StatePendingApproval],
			cmd: with(setStateCmd("t1", StatePendingApproval), func(c *Command) { c.Reason = "missing 1 of treasury" })},
		{name: "ok/same state, nothing new, is a no-op", setup: reach[StatePendingApproval], noop: true,
			cmd: setStateCmd("t1", StatePendingApproval)},
		{name: "ok/failed back to ready", setup: reach[StateFailed], cmd: setStateCmd("t1", StateReady)},
		{name: "ok/signing to expired keeps the reservation", setup: reach[StateSigning],
			cmd: setStateCmd("t1", StateExpired),
			check: func(t *testing.T, got Transfer, s *Store) {
				spends, _ := s.Spends(time.Time{})
				if got.Reservation == nil || len(spends) != 1 {
					t.Fatalf("reservation %v, spends %v", got.Reservation, spends)
				}
				if _, err := s.Apply(with(submit("t2", StateReady), func(c *Command) {})); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Apply(reserveCmd("t2", "s2", "aa:0")); !errors.Is(err, ErrConflict) {
					t.Fatalf("reserve consumed outpoint: %v", err)
				}
			}},
		{name: "fail/timelocked to ready before not_before", setup: reach[StateTimelocked],
			cmd: with(setStateCmd("t1", StateReady), func(c *Command) { c.At = at(3599) }), want: ErrTimelocked},
		{name: "fail/ready with a future not_before", setup: reach[StatePendingApproval],
			cmd: with(setStateCmd("t1", StateReady), func(c *Command) { c.NotBefore = at(21) }), want: ErrTimelocked},
		{name: "fail/timelocked without not_before", setup: reach[StatePendingApproval],
			cmd: setStateCmd("t1", StateTimelocked), want: ErrInvalid},
		{name: "fail/ready to signing", setup: reach[StateReady], cmd: setStateCmd("t1", StateSigning), want: ErrTransition},
		{name: "fail/signing to signed", setup: reach[StateSigning], cmd: setStateCmd("t1", StateSigned), want: ErrTransition},
		{name: "fail/ready to failed", setup: reach[StateReady], cmd: setStateCmd("t1", StateFailed), want: ErrTransition},
		{name: "fail/signing to ready", setup: reach[StateSigning], cmd: setStateCmd("t1", StateReady), want: ErrTransition},
		{name: "fail/denied to ready", setup: reach[StateDenied], cmd: setStateCmd("t1", StateReady), want: ErrFinal},
		{name: "fail/signed to expired", setup: reach[StateSigned], cmd: setStateCmd("t1", StateExpired), want: ErrFinal},
		{name: "fail/unknown state", setup: reach[StateReady], cmd: setStateCmd("t1", "paused"), want: ErrInvalid},
		{name: "fail/no state", setup: reach[StateReady], cmd: setStateCmd("t1", ""), want: ErrInvalid},
		{name: "fail/unknown transfer", cmd: setStateCmd("t1", StateReady), want: ErrTransferNotFound},
	}
	runApply(t, cases)
}
