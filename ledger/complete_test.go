package ledger

import (
	"bytes"
	"testing"
	"time"
)

func TestApplyComplete(t *testing.T) {
	cases := []applyCase{
		{name: "ok/owner session signs", setup: reach[StateSigning], cmd: completeCmd("t1", "s1", "tx1"),
			check: func(t *testing.T, got Transfer, s *Store) {
				spends, _ := s.Spends(time.Time{})
				if got.State != StateSigned || got.Result == nil || !bytes.Equal(got.Result.SignedTx, []byte("tx1")) ||
					got.Reservation == nil || len(spends) != 1 {
					t.Fatalf("got %+v, spends %v", got, spends)
				}
			}},
		{name: "ok/same session and transaction again is a no-op", noop: true,
			setup: append(reach[StateSigning][:2:2], completeCmd("t1", "s1", "tx1")),
			cmd:   with(completeCmd("t1", "s1", "tx1"), func(c *Command) { c.At = at(77) })},
		{name: "fail/signed with another transaction", setup: append(reach[StateSigning][:2:2], completeCmd("t1", "s1", "tx1")),
			cmd: completeCmd("t1", "s1", "tx2"), want: ErrConflict},
		{name: "fail/signed by another session", setup: append(reach[StateSigning][:2:2], completeCmd("t1", "s1", "tx1")),
			cmd: completeCmd("t1", "s2", "tx1"), want: ErrConflict},
		{name: "fail/not the reservation's session", setup: reach[StateSigning], cmd: completeCmd("t1", "s2", "tx1"), want: ErrConflict},
		{name: "fail/after release", setup: reach[StateFailed], cmd: completeCmd("t1", "s1", "tx1"), want: ErrConflict},
		{name: "fail/never reserved", setup: reach[StateReady], cmd: completeCmd("t1", "s1", "tx1"), want: ErrConflict},
		{name: "fail/denied while signing", setup: append(reach[StateSigning][:2:2], setStateCmd("t1", StateDenied)),
			cmd: completeCmd("t1", "s1", "tx1"), want: ErrFinal},
		{name: "fail/empty transaction", setup: reach[StateSigning], cmd: completeCmd("t1", "s1", ""), want: ErrInvalid},
		{name: "fail/no tx hash", setup: reach[StateSigning],
			cmd: with(completeCmd("t1", "s1", "tx1"), func(c *Command) { c.Result.TxHash = "" }), want: ErrInvalid},
		{name: "fail/unknown transfer", cmd: completeCmd("t1", "s1", "tx1"), want: ErrTransferNotFound},
	}
	runApply(t, cases)
}
