package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openFast is openTemp without fsync, for property tests that apply
// thousands of commands; durability is not what they check.
func openFast(t *testing.T) *Store {
	s := openTemp(t)
	s.db.NoSync = true
	return s
}

// cmdGen makes a random but seeded command sequence over a few transfers,
// outpoints, nonces, sessions and officers, so that conflicts, retries,
// idempotent repeats and illegal commands all happen often.
type cmdGen struct {
	r    *rand.Rand
	i    int
	seen map[string]bool // IDs submitted so far (valid or not)
}

func newCmdGen(seed, stream uint64) *cmdGen {
	return &cmdGen{r: rand.New(rand.NewPCG(seed, stream)), seen: map[string]bool{}}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func (g *cmdGen) next() Command {
	g.i++
	now := at(g.i * 60)
	r := g.r
	// A sliding window of transfer IDs: new transfers keep arriving while
	// older ones are final. "e…" are eth transfers, "t…" btc.
	id := fmt.Sprintf("%s%d", pick(r, "t", "e"), g.i/20+r.IntN(3))
	session := pick(r, "s0", "s1")
	kind := pick(r, 0, 1, 2, 2, 2, 4, 4, 5, 6, 6)
	if !g.seen[id] && r.IntN(4) != 0 {
		kind = 0 // mostly submit before anything else
	}
	var c Command
	switch kind {
	case 0:
		g.seen[id] = true
		tr := newTransfer(id, pick(r, StatePendingApproval, StateTimelocked, StateReady, StateReady, StateDenied))
		tr.SubmittedAt, tr.ExpiresAt = now, now.Add(time.Duration(1+r.IntN(300))*time.Minute)
		if tr.State == StateTimelocked {
			tr.NotBefore = now.Add(time.Duration(r.IntN(20)) * time.Minute)
		}
		if r.IntN(5) == 0 {
			tr.Intent = fmt.Appendf(nil, "other intent %d", r.IntN(3))
		}
		c = submitCmd(tr)
	case 1:
		c = approveCmd(id, pick(r, "alice", "bob", "carol"), pick(r, "approve", "reject"))
	case 2:
		c = setStateCmd(id, pick(r, append(allStates, StateReady, StateReady)...))
		if r.IntN(2) == 0 {
			c.NotBefore = now.Add(time.Duration(r.IntN(7)-3) * time.Minute)
		}
		c.Reason = pick(r, "", "re-evaluated", "missing 1 of treasury")
	case 4:
		// Outpoints and nonces come from a sliding window too, so that
		// some are contended and some consumed.
		if id[0] == 'e' {
			c = reserveETHCmd(id, session, fmt.Sprintf("1/0xhot#%d", g.i/40+r.IntN(3)))
		} else {
			op := func() string { return fmt.Sprintf("%x:%d", g.i/40+r.IntN(2), r.IntN(2)) }
			ops := []string{op()}
			if r.IntN(2) == 0 {
				ops = append(ops, op())
			}
			c = reserveCmd(id, session, ops...)
		}
	case 5:
		c = releaseCmd(id, session)
	default:
		c = completeCmd(id, session, pick(r, "txA", "txB"))
	}
	c.At = now
	return c
}

func TestApplyIsDeterministic(t *testing.T) {
	reached := map[TransferState]bool{}
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("ok/seed %d", seed), func(t *testing.T) {
			a, b := openFast(t), openFast(t)
			g := newCmdGen(seed, 42)
			for i := range 1000 {
				if i%100 == 0 {
					checkInvariants(t, a)
				}
				c := g.next()
				ta, errA := a.Apply(c)
				tb, errB := b.Apply(c)
				if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(ta, tb) {
					t.Fatalf("stores diverged on %+v: %v / %v", c, errA, errB)
				}
				if errA == nil {
					reached[ta.State] = true
				}
			}
			if !bytes.Equal(dump(t, a, transferBuckets...), dump(t, b, transferBuckets...)) {
				t.Fatal("transfer buckets differ")
			}
			checkInvariants(t, a)
		})
	}
	for _, st := range allStates {
		if !reached[st] {
			t.Errorf("the random sequences never reached %s", st)
		}
	}
}

// TestReplayRebuildsState replays a store's command log, page by page and
// through JSON as a replica would receive it, into an empty store: every
// command must apply and both stores must end byte-identical, log included.
func TestReplayRebuildsState(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("ok/seed %d", seed), func(t *testing.T) {
			a, c := openFast(t), openFast(t)
			g := newCmdGen(seed, 7)
			for range 1000 {
				_, _ = a.Apply(g.next())
			}
			var from uint64
			for {
				cmds, next, err := a.Commands(from, 25)
				if err != nil {
					t.Fatal(err)
				}
				if len(cmds) == 0 {
					break
				}
				for _, cmd := range cmds {
					raw, err := json.Marshal(cmd)
					if err != nil {
						t.Fatal(err)
					}
					var wire Command
					if err := json.Unmarshal(raw, &wire); err != nil {
						t.Fatal(err)
					}
					if _, err := c.Apply(wire); err != nil {
						t.Fatalf("replay %s %s: %v", wire.Kind, wire.ID, err)
					}
				}
				from = next
			}
			if commandCount(t, a) < 150 {
				t.Fatalf("only %d commands applied: the generator is too hostile", commandCount(t, a))
			}
			if !bytes.Equal(dump(t, a, transferBuckets...), dump(t, c, transferBuckets...)) {
				t.Fatal("replayed store differs")
			}
		})
	}
}

// checkInvariants cross-checks transfers against the reservation and
// spend indexes.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		l, _ := openLedgerTx(tx)
		held, spends := 0, 0
		err := l.transfers.ForEach(func(k, v []byte) error {
			var tr Transfer
			if err := json.Unmarshal(v, &tr); err != nil {
				return err
			}
			switch {
			case tr.State == StateSigning && tr.Reservation == nil:
				return fmt.Errorf("%s signing without reservation", tr.ID)
			case tr.State == StateSigned && (tr.Result == nil || tr.Reservation == nil):
				return fmt.Errorf("%s signed without result or reservation", tr.ID)
			case tr.Reservation != nil && !(tr.State == StateSigning || tr.State.Final()):
				return fmt.Errorf("%s is %s with a reservation", tr.ID, tr.State)
			case tr.Reservation == nil:
				return nil
			}
			for _, hk := range holdKeys(tr.Reservation) {
				if got := l.reservations.Get(hk); string(got) != tr.ID {
					return fmt.Errorf("%s holds %s but the index says %q", tr.ID, hk, got)
				}
				held++
			}
			if l.spends.Get(spendKey(tr.Reservation.Spend.At, tr.ID)) == nil {
				return fmt.Errorf("%s has no spend", tr.ID)
			}
			spends++
			return nil
		})
		if err != nil {
			return err
		}
		if n := l.reservations.Stats().KeyN; n != held {
			return fmt.Errorf("index has %d keys, transfers hold %d", n, held)
		}
		if n := l.spends.Stats().KeyN; n != spends {
			return fmt.Errorf("%d spends for %d reservations", n, spends)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
