package ledger

import (
	"strings"
	"testing"
	"time"
)

func TestApplySubmit(t *testing.T) {
	state := func(want TransferState) func(*testing.T, Transfer, *Store) {
		return func(t *testing.T, got Transfer, _ *Store) {
			if got.State != want || !got.UpdatedAt.Equal(at(0)) {
				t.Fatalf("state %s updated %s, want %s at %s", got.State, got.UpdatedAt, want, at(0))
			}
		}
	}
	differentIntent := newTransfer("t1", StateReady)
	differentIntent.Intent = []byte("another intent")
	differentDigest := newTransfer("t1", StateReady)
	differentDigest.Digest = make([]byte, 32)
	changedState := newTransfer("t1", StateDenied) // same digest and intent, other fields differ
	changedState.Amount = "1"
	cases := []applyCase{
		{name: "ok/pending approval", cmd: submit("t1", StatePendingApproval), check: state(StatePendingApproval)},
		{name: "ok/timelocked", cmd: submit("t1", StateTimelocked), check: state(StateTimelocked)},
		{name: "ok/ready", cmd: submit("t1", StateReady), check: state(StateReady)},
		{name: "ok/denied at once", cmd: submit("t1", StateDenied), check: state(StateDenied)},
		{name: "ok/eth", cmd: submit("e1", StateReady), check: state(StateReady)},
		{name: "ok/submitted_at defaults to the command time",
			cmd: with(submit("t1", StateReady), func(c *Command) { c.Submit.SubmittedAt = time.Time{}; c.At = at(7) }),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if !got.SubmittedAt.Equal(at(7)) {
					t.Fatalf("submitted_at = %s, want %s", got.SubmittedAt, at(7))
				}
			}},
		{name: "ok/times are stored in UTC",
			cmd: with(submit("t1", StateReady), func(c *Command) { c.Submit.SubmittedAt = at(-5).In(time.FixedZone("X", 3600)) }),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.SubmittedAt.Location() != time.UTC || !got.SubmittedAt.Equal(at(-5)) {
					t.Fatalf("submitted_at = %s, want %s in UTC", got.SubmittedAt, at(-5))
				}
			}},
		{name: "ok/same ID, same digest and intent is a no-op", noop: true,
			setup: []Command{submit("t1", StatePendingApproval), approveCmd("t1", "alice", "approve")},
			cmd:   submitCmd(changedState),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StatePendingApproval || got.Amount != "150000" || len(got.Approvals) != 1 {
					t.Fatalf("resubmission changed the transfer: %+v", got)
				}
			}},
		{name: "ok/resubmitting a signed transfer returns its result", noop: true,
			setup: []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0"), completeCmd("t1", "s1", "tx1")},
			cmd:   submit("t1", StateReady),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StateSigned || got.Result == nil || string(got.Result.SignedTx) != "tx1" {
					t.Fatalf("got %+v", got)
				}
			}},
		{name: "fail/same ID, different intent", setup: []Command{submit("t1", StateReady)},
			cmd: submitCmd(differentIntent), want: ErrConflict},
		{name: "fail/same ID, different digest", setup: []Command{submit("t1", StateReady)},
			cmd: submitCmd(differentDigest), want: ErrConflict},
		{name: "fail/ready before its not_before",
			cmd: with(submit("t1", StateReady), func(c *Command) { c.Submit.NotBefore = at(60) }), want: ErrTimelocked},
		{name: "fail/timelocked without not_before",
			cmd: with(submit("t1", StateTimelocked), func(c *Command) { c.Submit.NotBefore = time.Time{} }), want: ErrInvalid},
	}
	bad := map[string]func(*Transfer){
		"bad id":                   func(t *Transfer) { t.ID = "has space" },
		"long id":                  func(t *Transfer) { t.ID = strings.Repeat("a", 129) },
		"short digest":             func(t *Transfer) { t.Digest = t.Digest[:31] },
		"empty source":             func(t *Transfer) { t.Source = "" },
		"empty chain":              func(t *Transfer) { t.Chain = "" },
		"unknown chain":            func(t *Transfer) { t.Chain = "doge" },
		"empty asset":              func(t *Transfer) { t.Asset = "" },
		"empty amount":             func(t *Transfer) { t.Amount = "" },
		"negative amount":          func(t *Transfer) { t.Amount = "-5" },
		"leading zero amount":      func(t *Transfer) { t.Amount = "0150" },
		"empty destination":        func(t *Transfer) { t.To = "" },
		"empty intent":             func(t *Transfer) { t.Intent = nil },
		"empty home":               func(t *Transfer) { t.Home = "" },
		"empty initiator":          func(t *Transfer) { t.Initiator = "" },
		"initial state signing":    func(t *Transfer) { t.State = StateSigning },
		"initial state signed":     func(t *Transfer) { t.State = StateSigned },
		"initial state failed":     func(t *Transfer) { t.State = StateFailed },
		"initial state expired":    func(t *Transfer) { t.State = StateExpired },
		"unknown state":            func(t *Transfer) { t.State = "paused" },
		"expiry before submission": func(t *Transfer) { t.ExpiresAt = t.SubmittedAt },
		"carries approvals":        func(t *Transfer) { t.Approvals = []Approval{{Officer: "x"}} },
		"carries a reservation":    func(t *Transfer) { t.Reservation = &Reservation{} },
		"carries a result":         func(t *Transfer) { t.Result = &Result{} },
		"carries attempts":         func(t *Transfer) { t.Attempts = 1 },
		"submitted in year 3000": func(t *Transfer) {
			t.SubmittedAt, t.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3001, 1, 1, 0, 0, 0, 0, time.UTC)
		},
	}
	for name, f := range bad {
		tr := newTransfer("t1", StateReady)
		f(tr)
		cases = append(cases, applyCase{name: "fail/" + name, cmd: submitCmd(tr), want: ErrInvalid})
	}
	runApply(t, cases)
}
