package ledger

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestTransfers(t *testing.T) {
	s := openTemp(t)
	// t-b and t-a share a submission time: ID breaks the tie.
	for _, c := range []Command{
		with(submit("t-c", StateReady), func(c *Command) { c.Submit.SubmittedAt = at(-10) }),
		with(submit("t-b", StatePendingApproval), func(c *Command) { c.Submit.Home = "n2" }),
		submit("t-a", StateReady),
		with(submit("t-d", StateDenied), func(c *Command) { c.Submit.SubmittedAt, c.Submit.Initiator = at(5), "ops" }),
		with(submit("t-old", StateReady), func(c *Command) { c.Submit.SubmittedAt = time.Date(1969, 7, 20, 0, 0, 0, 0, time.UTC) }),
	} {
		if _, err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    TransferFilter
		want []string
		err  error
	}{
		{"ok/all newest first", TransferFilter{}, []string{"t-d", "t-a", "t-b", "t-c", "t-old"}, nil},
		{"ok/limit", TransferFilter{Limit: 2}, []string{"t-d", "t-a"}, nil},
		{"ok/by state", TransferFilter{State: StateReady}, []string{"t-a", "t-c", "t-old"}, nil},
		{"ok/by state with limit", TransferFilter{State: StateReady, Limit: 1}, []string{"t-a"}, nil},
		{"ok/by initiator", TransferFilter{Initiator: "ops"}, []string{"t-d"}, nil},
		{"ok/by home", TransferFilter{Home: "n2"}, []string{"t-b"}, nil},
		{"ok/nothing matches", TransferFilter{State: StateSigned}, nil, nil},
		{"fail/unknown state", TransferFilter{State: "paused"}, nil, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Transfers(tc.f)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			var ids []string
			for _, tr := range got {
				ids = append(ids, tr.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Fatalf("ids = %v, want %v", ids, tc.want)
			}
		})
	}
	if _, err := s.Transfer("nope"); !errors.Is(err, ErrTransferNotFound) {
		t.Fatalf("missing transfer: %v", err)
	}
}

func TestSpends(t *testing.T) {
	s := openTemp(t)
	reserveAt := func(id string, sec int, outpoint string) Command {
		return with(reserveCmd(id, "s-"+id, outpoint), func(c *Command) { c.At = at(sec) })
	}
	for _, c := range []Command{
		submit("t1", StateReady), submit("t2", StateReady), submit("t3", StateReady), submit("t4", StateReady),
		reserveAt("t1", 100, "a:0"), // signed below: counts
		reserveAt("t2", 200, "b:0"), // released below: does not count
		reserveAt("t3", 300, "c:0"), // still signing: counts
		completeCmd("t1", "s-t1", "tx1"), releaseCmd("t2", "s-t2"),
	} {
		if _, err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		since  time.Time
		except string
		want   []time.Time
	}{
		{"ok/all", time.Time{}, "", []time.Time{at(100), at(300)}},
		{"ok/window start is inclusive", at(100), "", []time.Time{at(100), at(300)}},
		{"ok/window excludes older", at(101), "", []time.Time{at(300)}},
		{"ok/empty window", at(301), "", nil},
		{"ok/far future", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "", nil},
		{"ok/without the transfer decided on", time.Time{}, "t3", []time.Time{at(100)}},
		{"ok/except names no spend", time.Time{}, "t2", []time.Time{at(100), at(300)}},
		{"ok/except is an exact ID, not a prefix", time.Time{}, "t", []time.Time{at(100), at(300)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SpendsExcept(tc.since, tc.except)
			if err != nil {
				t.Fatal(err)
			}
			var ats []time.Time
			for _, sp := range got {
				ats = append(ats, sp.At)
				if sp.Amount != "150000" || sp.Source != "hot-btc" || sp.Rule != "sweep" {
					t.Fatalf("spend %+v", sp)
				}
			}
			if fmt.Sprint(ats) != fmt.Sprint(tc.want) {
				t.Fatalf("spends at %v, want %v", ats, tc.want)
			}
		})
	}
}

func TestCommandsPages(t *testing.T) {
	s := openTemp(t)
	var applied []Command
	for i := range 7 {
		c := submit(fmt.Sprintf("t%d", i), StateReady)
		if _, err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
		applied = append(applied, c.normalized())
	}
	var got []Command
	from := uint64(0)
	for {
		page, next, err := s.Commands(from, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if next != from {
				t.Fatalf("empty page moved next from %d to %d", from, next)
			}
			break
		}
		got, from = append(got, page...), next
	}
	if !reflect.DeepEqual(got, applied) || from != 8 {
		t.Fatalf("read %d commands up to %d, want %d up to 8", len(got), from, len(applied))
	}
}
