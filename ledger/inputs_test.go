package ledger

import (
	"strings"
	"testing"
)

func reserveStating(id, session string, amounts ...int64) Command {
	var ops []string
	var ins []Input
	for i, a := range amounts {
		op := "tx:" + string(rune('0'+i))
		ops = append(ops, op)
		ins = append(ins, Input{Outpoint: op, Amount: a, Script: []byte{0x00, 0x14, 1}})
	}
	c := reserveCmd(id, session, ops...)
	c.Reservation.Inputs = ins
	return c
}

// The first amount stated for an outpoint is pinned for good: a later
// intent over the same outpoint that states another amount is refused,
// both amounts named, even after the first request released it. (Two
// such intents, each understating another input, would otherwise build
// byte-identical transactions whose signatures splice.)
func TestInputAmountsArePinned(t *testing.T) {
	released := []Command{submit("t1", StateReady), reserveStating("t1", "s1", 100_000, 900_000), releaseCmd("t1", "s1"), submit("t2", StateReady)}
	runApply(t, []applyCase{
		{name: "fail/another amount for a released outpoint", setup: released, cmd: reserveStating("t2", "s2", 900_000, 100_000), want: ErrConflict},
		{name: "ok/the same amounts again", setup: released, cmd: reserveStating("t2", "s2", 100_000, 900_000)},
		{name: "fail/a second signer states another amount", setup: []Command{submit("t1", StateReady), reserveStating("t1", "s1", 100_000)},
			cmd: as("n2", reserveStating("t1", "s1", 50_000)), want: ErrConflict},
		{name: "fail/a signer joining a reservation made without inputs still meets the pins",
			setup: []Command{submit("t0", StateReady), reserveStating("t0", "s0", 100_000), releaseCmd("t0", "s0"),
				submit("t1", StateReady), reserveCmd("t1", "s1", "tx:0")},
			cmd: as("n2", reserveStating("t1", "s1", 50_000)), want: ErrConflict},
		{name: "fail/inputs that do not match the outpoints", setup: []Command{submit("t1", StateReady)},
			cmd: with(reserveStating("t1", "s1", 100_000), func(c *Command) { c.Reservation.Inputs[0].Outpoint = "tx:9" }), want: ErrInvalid},
	})
	// the refusal names both amounts
	s := openTB(t)
	for _, c := range released {
		if _, err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Apply(reserveStating("t2", "s2", 900_000, 100_000))
	if err == nil || !strings.Contains(err.Error(), "100000 sat") || !strings.Contains(err.Error(), "900000 sat") || !strings.Contains(err.Error(), "t1") {
		t.Fatalf("refusal: %v", err)
	}
}
