package ledger

import (
	"testing"
	"time"
)

func TestApplyReserve(t *testing.T) {
	ready := submit("t1", StateReady)
	signing := func(t *testing.T, got Transfer, s *Store) {
		spends, err := s.Spends(time.Time{})
		if err != nil || got.State != StateSigning || got.Attempts < 1 || got.Reservation == nil || len(spends) != 1 {
			t.Fatalf("got %+v, spends %v (%v)", got, spends, err)
		}
	}
	cases := []applyCase{
		{name: "ok/ready btc", setup: []Command{ready}, cmd: reserveCmd("t1", "s1", "aa:0", "aa:1"), check: signing},
		{name: "ok/ready eth", setup: []Command{submit("e1", StateReady)}, cmd: reserveETHCmd("e1", "s1", "1/0xhot#7"), check: signing},
		{name: "ok/failed retry counts a second attempt", setup: reach[StateFailed], cmd: reserveCmd("t1", "s2", "aa:0"),
			check: func(t *testing.T, got Transfer, s *Store) {
				signing(t, got, s)
				if got.Attempts != 2 {
					t.Fatalf("attempts = %d", got.Attempts)
				}
			}},
		{name: "ok/same session again is a no-op", noop: true, setup: []Command{ready, reserveCmd("t1", "s1", "aa:0")},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.At = at(35) }), check: signing},
		{name: "ok/outpoint released by another transfer is free",
			setup: []Command{ready, submit("t2", StateReady), reserveCmd("t2", "s2", "aa:0"), releaseCmd("t2", "s2")},
			cmd:   reserveCmd("t1", "s1", "aa:0"), check: signing},
		{name: "ok/at the timelock's end", setup: []Command{submit("t1", StateTimelocked),
			with(setStateCmd("t1", StateReady), func(c *Command) { c.At = at(3600) })},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.At = at(3600) })},
		{name: "fail/outpoint reserved by another transfer",
			setup: []Command{ready, submit("t2", StateReady), reserveCmd("t2", "s2", "bb:1", "aa:0")},
			cmd:   reserveCmd("t1", "s1", "aa:0"), want: ErrConflict},
		{name: "fail/outpoint consumed by a signed transfer", setup: []Command{ready, submit("t2", StateReady),
			reserveCmd("t2", "s2", "aa:0"), completeCmd("t2", "s2", "tx2")},
			cmd: reserveCmd("t1", "s1", "aa:0"), want: ErrConflict},
		{name: "fail/nonce reserved by another transfer",
			setup: []Command{submit("e1", StateReady), submit("e2", StateReady), reserveETHCmd("e2", "s2", "1/0xhot#7")},
			cmd:   reserveETHCmd("e1", "s1", "1/0xhot#7"), want: ErrConflict},
		{name: "fail/nonce consumed by a signed transfer", setup: []Command{submit("e1", StateReady), submit("e2", StateReady),
			reserveETHCmd("e2", "s2", "1/0xhot#7"), completeCmd("e2", "s2", "tx2")},
			cmd: reserveETHCmd("e1", "s1", "1/0xhot#7"), want: ErrConflict},
		{name: "fail/live reservation of another session", setup: []Command{ready, reserveCmd("t1", "s1", "aa:0")},
			cmd: reserveCmd("t1", "s2", "aa:0"), want: ErrConflict},
		{name: "fail/same session, other outpoints", setup: []Command{ready, reserveCmd("t1", "s1", "aa:0")},
			cmd: reserveCmd("t1", "s1", "aa:1"), want: ErrConflict},
		{name: "fail/pending approval", setup: reach[StatePendingApproval], cmd: reserveCmd("t1", "s1", "aa:0"), want: ErrTransition},
		{name: "fail/timelocked", setup: reach[StateTimelocked], cmd: reserveCmd("t1", "s1", "aa:0"), want: ErrTransition},
		{name: "fail/signed", setup: reach[StateSigned], cmd: reserveCmd("t1", "s2", "bb:0"), want: ErrFinal},
		{name: "fail/denied", setup: reach[StateDenied], cmd: reserveCmd("t1", "s1", "aa:0"), want: ErrFinal},
		{name: "fail/expired", setup: reach[StateExpired], cmd: reserveCmd("t1", "s1", "aa:0"), want: ErrFinal},
		{name: "fail/past expiry", setup: []Command{ready},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.At = at(86400) }), want: ErrExpired},
		{name: "fail/before not_before", setup: []Command{submit("t1", StateTimelocked),
			with(setStateCmd("t1", StateReady), func(c *Command) { c.At = at(3600) })},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.At = at(3599) }), want: ErrTimelocked},
		{name: "fail/unknown transfer", cmd: reserveCmd("t1", "s1", "aa:0"), want: ErrTransferNotFound},
		{name: "fail/btc with a nonce", setup: []Command{ready},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.Reservation.NonceKey = "1/0xhot#7" }), want: ErrInvalid},
		{name: "fail/eth with outpoints", setup: []Command{submit("e1", StateReady)},
			cmd: reserveCmd("e1", "s1", "aa:0"), want: ErrInvalid},
		{name: "fail/nothing pinned", setup: []Command{ready}, cmd: reserveCmd("t1", "s1"), want: ErrInvalid},
		{name: "fail/outpoint twice", setup: []Command{ready}, cmd: reserveCmd("t1", "s1", "aa:0", "aa:0"), want: ErrInvalid},
		{name: "fail/malformed outpoint", setup: []Command{ready}, cmd: reserveCmd("t1", "s1", "aa0"), want: ErrInvalid},
		{name: "fail/malformed nonce key", setup: []Command{submit("e1", StateReady)},
			cmd: reserveETHCmd("e1", "s1", "1/0xhot-7"), want: ErrInvalid},
		{name: "fail/no session", setup: []Command{ready}, cmd: reserveCmd("t1", "", "aa:0"), want: ErrInvalid},
		{name: "fail/spend of another amount", setup: []Command{ready},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.Reservation.Spend.Amount = "1" }), want: ErrInvalid},
		{name: "fail/spend to another destination", setup: []Command{ready},
			cmd: with(reserveCmd("t1", "s1", "aa:0"), func(c *Command) { c.Reservation.Spend.To = "bcrt1qevil" }), want: ErrInvalid},
	}
	runApply(t, cases)
}

func TestApplyRelease(t *testing.T) {
	cases := []applyCase{
		{name: "ok/owner session frees outpoints and spend", setup: reach[StateSigning], cmd: releaseCmd("t1", "s1"),
			check: func(t *testing.T, got Transfer, s *Store) {
				spends, _ := s.Spends(time.Time{})
				if got.State != StateFailed || got.Reservation != nil || got.Reason != "session timed out: n3 silent" || len(spends) != 0 {
					t.Fatalf("got %+v, spends %v", got, spends)
				}
				if _, err := s.Apply(submit("t2", StateReady)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Apply(reserveCmd("t2", "s2", "aa:0")); err != nil {
					t.Fatalf("released outpoint still held: %v", err)
				}
			}},
		{name: "ok/eth nonce freed", setup: []Command{submit("e1", StateReady), reserveETHCmd("e1", "s1", "1/0xhot#7")},
			cmd: releaseCmd("e1", "s1"),
			check: func(t *testing.T, _ Transfer, s *Store) {
				if _, err := s.Apply(submit("e2", StateReady)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Apply(reserveETHCmd("e2", "s2", "1/0xhot#7")); err != nil {
					t.Fatalf("released nonce still held: %v", err)
				}
			}},
		{name: "fail/another session", setup: reach[StateSigning], cmd: releaseCmd("t1", "s2"), want: ErrConflict},
		{name: "fail/released twice", setup: reach[StateFailed], cmd: releaseCmd("t1", "s1"), want: ErrConflict},
		{name: "fail/nothing reserved", setup: reach[StateReady], cmd: releaseCmd("t1", "s1"), want: ErrConflict},
		{name: "fail/signed", setup: reach[StateSigned], cmd: releaseCmd("t1", "s1"), want: ErrFinal},
		{name: "fail/expired while signing", setup: append(reach[StateSigning][:2:2], setStateCmd("t1", StateExpired)),
			cmd: releaseCmd("t1", "s1"), want: ErrFinal},
		{name: "fail/no reason", setup: reach[StateSigning],
			cmd: with(releaseCmd("t1", "s1"), func(c *Command) { c.Reason = "" }), want: ErrInvalid},
		{name: "fail/no session", setup: reach[StateSigning], cmd: releaseCmd("t1", ""), want: ErrInvalid},
		{name: "fail/unknown transfer", cmd: releaseCmd("t1", "s1"), want: ErrTransferNotFound},
	}
	runApply(t, cases)
}
