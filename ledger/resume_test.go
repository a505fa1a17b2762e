package ledger

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func resumeCmd(id, session, resumes, node string, outpoints ...string) Command {
	c := reserveCmd(id, session, outpoints...)
	c.Node, c.At = node, at(35)
	c.Reservation.Resumes = []byte(resumes)
	return c
}

func as(node string, c Command) Command { c.Node = node; return c }

func TestResume(t *testing.T) {
	live := []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "tx:0"), as("n2", reserveCmd("t1", "s1", "tx:0"))}
	runApply(t, []applyCase{
		{name: "ok/a silent session is taken over: same pins, spend unchanged, old session remembered",
			setup: live, cmd: resumeCmd("t1", "s2", "s1", "n3", "tx:0"),
			check: func(t *testing.T, got Transfer, s *Store) {
				r := got.Reservation
				if got.State != StateSigning || !bytes.Equal(r.Session, []byte("s2")) || !slices.Equal(r.Holders, []string{"n3"}) {
					t.Fatalf("after the takeover: %s %+v", got.State, r)
				}
				if len(r.Superseded) != 1 || string(r.Superseded[0].Session) != "s1" || !slices.Equal(r.Superseded[0].Holders, []string{"n1", "n2"}) {
					t.Fatalf("superseded: %+v", r.Superseded)
				}
				if !r.Spend.At.Equal(at(30)) || len(r.Resumes) != 0 {
					t.Fatalf("the spend moved or the command's Resumes was stored: %+v", r)
				}
				if sp, _ := s.Spends(at(0)); len(sp) != 1 {
					t.Fatalf("spends after the takeover: %v", sp)
				}
				if h, _ := s.Holders([]string{"tx:0"}, ""); h["tx:0"] != "t1" {
					t.Fatalf("the outpoint is no longer pinned: %v", h)
				}
			}},
		{name: "ok/the old session's signature still completes the transfer",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: as("n2", completeCmd("t1", "s1", "raw")),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StateSigned || string(got.Result.Session) != "s1" {
					t.Fatalf("%s %+v", got.State, got.Result)
				}
			}},
		{name: "ok/the new session completes it",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: as("n3", completeCmd("t1", "s2", "raw2")),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StateSigned {
					t.Fatalf("%s", got.State)
				}
			}},
		{name: "ok/a second signer joins the new session",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: resumeCmd("t1", "s2", "s1", "n1", "tx:0"),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if !slices.Equal(got.Reservation.Holders, []string{"n1", "n3"}) || len(got.Reservation.Superseded) != 1 {
					t.Fatalf("%+v", got.Reservation)
				}
			}},
		{name: "fail/a node that held only the old session cannot complete with the new one",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: as("n2", completeCmd("t1", "s2", "raw")), want: ErrConflict},
		{name: "fail/the old session cannot release what the new one holds",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: as("n2", releaseCmd("t1", "s1")), want: ErrConflict},
		{name: "ok/when every holder of a resumed session releases, nothing is freed",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: as("n3", releaseCmd("t1", "s2")),
			check: func(t *testing.T, got Transfer, s *Store) {
				if got.State != StateSigning || !got.Reservation.Silent || len(got.Reservation.Holders) != 0 {
					t.Fatalf("%s %+v", got.State, got.Reservation)
				}
				if sp, _ := s.Spends(at(0)); len(sp) != 1 {
					t.Fatalf("the spend stopped counting: %v", sp)
				}
				if h, _ := s.Holders([]string{"tx:0"}, ""); h["tx:0"] != "t1" {
					t.Fatalf("the outpoint was freed: %v", h)
				}
			}},
		{name: "fail/a silent reservation cannot be released again",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0"), as("n3", releaseCmd("t1", "s2"))),
			cmd:   as("n1", releaseCmd("t1", "s2")), want: ErrConflict},
		{name: "fail/nobody joins a session that failed",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0"), as("n3", releaseCmd("t1", "s2"))),
			cmd:   as("n1", reserveCmd("t1", "s2", "tx:0")), want: ErrConflict},
		{name: "ok/a silent reservation is resumed again",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0"), as("n3", releaseCmd("t1", "s2"))),
			cmd:   resumeCmd("t1", "s3", "s2", "n1", "tx:0"),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.Reservation.Silent || len(got.Reservation.Superseded) != 2 || !slices.Equal(got.Reservation.Holders, []string{"n1"}) {
					t.Fatalf("%+v", got.Reservation)
				}
			}},
		{name: "ok/an ordinary session stays reserved while one holder keeps it",
			setup: live, cmd: as("n2", releaseCmd("t1", "s1")),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StateSigning {
					t.Fatalf("n1 still holds it: %s", got.State)
				}
			}},
		{name: "fail/nobody completes a session whose holders all said it failed",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0"), as("n3", releaseCmd("t1", "s2"))),
			cmd:   as("n1", completeCmd("t1", "s2", "raw")), want: ErrConflict},
		{name: "fail/nor once it is superseded",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0"), as("n3", releaseCmd("t1", "s2")), resumeCmd("t1", "s3", "s2", "n1", "tx:0")),
			cmd:   as("n3", completeCmd("t1", "s2", "raw")), want: ErrConflict},
		{name: "ok/a superseded session that was merely silent still completes",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0"), as("n3", releaseCmd("t1", "s2")), resumeCmd("t1", "s3", "s2", "n1", "tx:0")),
			cmd:   as("n1", completeCmd("t1", "s1", "raw")),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StateSigned {
					t.Fatalf("%s", got.State)
				}
			}},
		{name: "fail/taking over another session than the live one",
			setup: live, cmd: resumeCmd("t1", "s2", "s0", "n3", "tx:0"), want: ErrConflict},
		{name: "fail/a resumption must pin the same outpoints",
			setup: live, cmd: resumeCmd("t1", "s2", "s1", "n3", "tx:1"), want: ErrConflict},
		{name: "fail/a superseded session cannot come back",
			setup: append(slices.Clone(live), resumeCmd("t1", "s2", "s1", "n3", "tx:0")), cmd: resumeCmd("t1", "s1", "s2", "n1", "tx:0"), want: ErrConflict},
		{name: "fail/a command cannot bring its own superseded list",
			setup: live, cmd: with(resumeCmd("t1", "s2", "s1", "n3", "tx:0"), func(c *Command) {
				c.Reservation.Superseded = []Superseded{{Session: []byte("s9")}}
			}), want: ErrInvalid},
		{name: "ok/Resumes on a ready transfer is an ordinary reservation and is not stored",
			setup: []Command{submit("t1", StateReady)}, cmd: resumeCmd("t1", "s2", "s1", "n3", "tx:0"),
			check: func(t *testing.T, got Transfer, _ *Store) {
				if got.State != StateSigning || len(got.Reservation.Resumes) != 0 || len(got.Reservation.Superseded) != 0 {
					t.Fatalf("%+v", got.Reservation)
				}
			}},
	})
	t.Run("fail/resumptions are bounded", func(t *testing.T) {
		s := openTemp(t)
		for _, c := range live {
			if _, err := s.Apply(c); err != nil {
				t.Fatal(err)
			}
		}
		prev := "s1"
		for i := range MaxResumptions + 1 {
			next := "r" + string(rune('a'+i))
			_, err := s.Apply(resumeCmd("t1", next, prev, "n3", "tx:0"))
			if i < MaxResumptions && err != nil {
				t.Fatalf("resumption %d: %v", i+1, err)
			}
			if i == MaxResumptions && !errors.Is(err, ErrConflict) {
				t.Fatalf("resumption %d: got %v, want a conflict", i+1, err)
			}
			prev = next
		}
	})
}
