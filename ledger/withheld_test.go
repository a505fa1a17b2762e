package ledger

import (
	"slices"
	"testing"
)

func releasePossiblySigned(id, session string) Command {
	c := releaseCmd(id, session)
	c.Reservation.PossiblySigned = true
	return c
}

// A holder that sent its last-round share says so when it releases: a
// signature may exist, withheld by whoever gathered the shares. Nothing is
// ever freed for that request: its spend counts, its inputs stay pinned,
// and only a resumption (over the same bytes) moves it on.
func TestWithheldSignatureKeepsItsReservation(t *testing.T) {
	live := []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "tx:0"), as("n2", reserveCmd("t1", "s1", "tx:0"))}
	kept := func(t *testing.T, got Transfer, s *Store) {
		t.Helper()
		if got.State != StateSigning || got.Reservation == nil || !got.Reservation.PossiblySigned {
			t.Fatalf("%s %+v", got.State, got.Reservation)
		}
		if sp, _ := s.Spends(at(0)); len(sp) != 1 {
			t.Fatalf("the spend stopped counting: %v", sp)
		}
		if h, _ := s.Holders([]string{"tx:0"}, ""); h["tx:0"] != "t1" {
			t.Fatalf("the outpoint was freed: %v", h)
		}
	}
	runApply(t, []applyCase{
		{name: "ok/the exposed holder releases first; the other's plain release frees nothing",
			setup: append(slices.Clone(live), as("n2", releasePossiblySigned("t1", "s1"))), cmd: releaseCmd("t1", "s1"),
			check: func(t *testing.T, got Transfer, s *Store) {
				kept(t, got, s)
				if !got.Reservation.Silent || len(got.Reservation.Holders) != 0 {
					t.Fatalf("not silent: %+v", got.Reservation)
				}
			}},
		{name: "ok/the last holder releases as possibly signed: nothing is freed",
			setup: append(slices.Clone(live), releaseCmd("t1", "s1")), cmd: as("n2", releasePossiblySigned("t1", "s1")),
			check: kept},
		{name: "fail/another request cannot take the pinned input",
			setup: append(slices.Clone(live), releaseCmd("t1", "s1"), as("n2", releasePossiblySigned("t1", "s1")), submit("t2", StateReady)),
			cmd:   reserveCmd("t2", "s9", "tx:0"), want: ErrConflict},
		{name: "ok/a resumption keeps the mark and the same pins",
			setup: append(slices.Clone(live), releaseCmd("t1", "s1"), as("n2", releasePossiblySigned("t1", "s1"))),
			cmd:   resumeCmd("t1", "s2", "s1", "n1", "tx:0"),
			check: func(t *testing.T, got Transfer, s *Store) {
				kept(t, got, s)
				if len(got.Reservation.Superseded) != 1 {
					t.Fatalf("%+v", got.Reservation)
				}
			}},
		{name: "ok/a failure before the last round frees as before",
			setup: append(slices.Clone(live), releaseCmd("t1", "s1")), cmd: as("n2", releaseCmd("t1", "s1")),
			check: func(t *testing.T, got Transfer, s *Store) {
				if got.State != StateFailed || got.Reservation != nil {
					t.Fatalf("%s %+v", got.State, got.Reservation)
				}
			}},
		{name: "fail/a reserve command cannot claim a signature may exist",
			setup: []Command{submit("t1", StateReady)},
			cmd: func() Command {
				c := reserveCmd("t1", "s1", "tx:0")
				c.Reservation.PossiblySigned = true
				return c
			}(), want: ErrInvalid},
	})
}
