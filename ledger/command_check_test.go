package ledger

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestApplyCommandShape(t *testing.T) {
	ready := []Command{submit("t1", StateReady)}
	cases := []applyCase{
		{name: "ok/submit with a matching command id",
			cmd: with(submit("t1", StateReady), func(c *Command) { c.ID = "t1" })},
		{name: "fail/unknown kind", setup: ready, cmd: with(setStateCmd("t1", StateReady), func(c *Command) { c.Kind = "delete" }), want: ErrInvalid},
		{name: "fail/no time", setup: ready, cmd: with(setStateCmd("t1", StateDenied), func(c *Command) { c.At = time.Time{} }), want: ErrInvalid},
		{name: "fail/time out of range", setup: ready,
			cmd: with(setStateCmd("t1", StateDenied), func(c *Command) { c.At = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }), want: ErrInvalid},
		{name: "fail/no proposer", setup: ready, cmd: with(setStateCmd("t1", StateDenied), func(c *Command) { c.Node = "" }), want: ErrInvalid},
		{name: "fail/no id", setup: ready, cmd: with(setStateCmd("t1", StateDenied), func(c *Command) { c.ID = "" }), want: ErrInvalid},
		{name: "fail/submit id differs from the transfer's", cmd: with(submit("t1", StateReady), func(c *Command) { c.ID = "t2" }), want: ErrInvalid},
		{name: "fail/submit without a transfer", cmd: Command{Kind: CmdSubmit, At: at(0), Node: "n1", ID: "t1"}, want: ErrInvalid},
		{name: "fail/approve carrying a result", setup: ready,
			cmd: with(approveCmd("t1", "alice", "approve"), func(c *Command) { c.Result = &Result{} }), want: ErrInvalid},
		{name: "fail/set_state carrying a reservation", setup: ready,
			cmd: with(setStateCmd("t1", StateDenied), func(c *Command) { c.Reservation = &Reservation{} }), want: ErrInvalid},
		{name: "fail/reserve carrying a state", setup: ready,
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.State = StateSigning }), want: ErrInvalid},
		{name: "fail/complete carrying a reason", setup: reach[StateSigning],
			cmd: with(completeCmd("t1", "s1", "tx"), func(c *Command) { c.Reason = "done" }), want: ErrInvalid},
		{name: "fail/submit carrying not_before", cmd: with(submit("t1", StateReady), func(c *Command) { c.NotBefore = at(1) }), want: ErrInvalid},
	}
	// A spend's fee is optional (spends recorded before fees counted have
	// none) and, when present, a canonical decimal like the amount.
	withFee := func(fee string) Command {
		return with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.Reservation.Spend.Fee = fee })
	}
	cases = append(cases,
		applyCase{name: "ok/reserve with a fee", setup: ready, cmd: withFee("282"), check: func(t *testing.T, got Transfer, s *Store) {
			spends, err := s.Spends(time.Time{})
			if err != nil || len(spends) != 1 || spends[0].Fee != "282" || got.Reservation.Spend.Fee != "282" {
				t.Fatalf("spends %+v, reservation %+v (%v)", spends, got.Reservation, err)
			}
		}},
		applyCase{name: "ok/reserve with a zero fee", setup: ready, cmd: withFee("0")},
		applyCase{name: "ok/reserve without a fee", setup: ready, cmd: withFee("")},
	)
	for _, bad := range [][2]string{
		{"negative", "-1"}, {"signed", "+1"}, {"leading zero", "0282"}, {"fraction", "2.5"}, {"exponent", "1e3"},
		{"hex", "0x1a"}, {"space", " 282"}, {"too long", strings.Repeat("9", 79)},
	} {
		cases = append(cases, applyCase{name: "fail/reserve with a fee " + bad[0], setup: ready, cmd: withFee(bad[1]), want: ErrInvalid})
	}
	runApply(t, cases)
}

// TestRefusedCommandsChangeNothing applies refused commands of every kind
// to a store with history and checks that no bucket changed and no
// command was logged.
func TestRefusedCommandsChangeNothing(t *testing.T) {
	s := openTemp(t)
	for _, c := range []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0"),
		submit("t2", StatePendingApproval), approveCmd("t2", "alice", "approve"), submit("t3", StateDenied)} {
		if _, err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	before, n := dump(t, s), commandCount(t, s)
	for _, c := range []Command{
		with(submit("t1", StateReady), func(c *Command) { c.Submit.Intent = []byte("other") }),
		approveCmd("t3", "alice", "approve"),
		setStateCmd("t2", StateSigned),
		reserveCmd("t2", "s2", "aa:0"),
		releaseCmd("t1", "s9"),
		completeCmd("t1", "s9", "tx"),
		{Kind: "bogus", At: at(1), Node: "n1", ID: "t1"},
	} {
		if _, err := s.Apply(c); err == nil {
			t.Fatalf("%s was accepted", c.Kind)
		}
	}
	if !bytes.Equal(before, dump(t, s)) || commandCount(t, s) != n {
		t.Fatal("refused commands changed the store")
	}
}

// TestFailureAfterPartialWriteRollsBack breaks the reservation index by
// hand so that release fails after it has already deleted one key: the
// whole transaction, including that delete, must roll back.
func TestFailureAfterPartialWriteRollsBack(t *testing.T) {
	s := openTemp(t)
	for _, c := range []Command{submit("t1", StateReady), reserveCmd("t1", "s1", "aa:0", "aa:1")} {
		if _, err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReservations).Put([]byte("o/aa:1"), []byte("intruder"))
	}); err != nil {
		t.Fatal(err)
	}
	before, n := dump(t, s), commandCount(t, s)
	if _, err := s.Apply(releaseCmd("t1", "s1")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("release over a broken index: %v, want ErrCorrupt", err)
	}
	if !bytes.Equal(before, dump(t, s)) || commandCount(t, s) != n {
		t.Fatal("a failed release left a partial write")
	}
}
