package gate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// soloLog applies proposals to the fixture's ledger as a one-node log.
func soloLog(st *ledger.Store) Proposer {
	return func(_ context.Context, cmd ledger.Command) (ledger.Transfer, error) {
		idx, err := st.AppliedIndex()
		if err != nil {
			return ledger.Transfer{}, err
		}
		cmd.Node = "node1"
		t, _, err := st.ApplyIndexed(idx+1, ledger.Origin{Node: "node1", Seq: idx + 1}, cmd)
		return t, err
	}
}

// The gate counts what the log reserved: two sweeps fit a count limit of
// two, the third is denied by the limit; once a reservation is released,
// the third fits.
func TestEvaluateAndReserveCountsTheLog(t *testing.T) {
	f := newFixtureWith(t, strings.Replace(fixturePolicy, "max_count: 100000000", "max_count: 2", 1))
	f.g.SetProposer(soloLog(f.store))
	ctx := context.Background()
	now := time.Now().UTC()
	reserve := func(id string) error {
		b, _ := f.sweep(t, id, 100_000, now)
		_, err := f.g.EvaluateAndReserve(ctx, f.pv, b, id, []byte("session-"+id), now)
		return err
	}
	for _, id := range []string{"r1", "r2"} {
		if err := reserve(id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	err := reserve("r3")
	if err == nil || !strings.Contains(err.Error(), "limit rule sweep") {
		t.Fatalf("fail/a third sweep over a count limit of two: %v", err)
	}
	if got, _ := f.store.Transfer("r3"); got.State != ledger.StateReady || got.Reservation != nil {
		t.Fatalf("a refused reservation changed r3: %s %+v", got.State, got.Reservation)
	}
	if _, err := soloLog(f.store)(ctx, ledger.Command{Kind: ledger.CmdRelease, At: now, ID: "r1", Reason: "session failed",
		Reservation: &ledger.Reservation{Session: []byte("session-r1")}}); err != nil {
		t.Fatal(err)
	}
	b, _ := f.store.Transfer("r3")
	built, err := f.g.Rebuild(f.pv, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.g.EvaluateAndReserve(ctx, f.pv, built, "r3", []byte("session-r3"), now); err != nil {
		t.Fatalf("after a release the third fits: %v", err)
	}
}

// A reservation is stale when its session ran past the deadline and a
// grace, or when every holder of a resumed session gave up.
func TestStale(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	at := now.Add(-f.g.StaleAfter() - time.Second)
	for _, c := range []struct {
		name string
		t    ledger.Transfer
		want bool
	}{
		{"ready", ledger.Transfer{State: ledger.StateReady}, false},
		{"signing, fresh", ledger.Transfer{State: ledger.StateSigning, Reservation: &ledger.Reservation{At: now}}, false},
		{"signing, past the deadline", ledger.Transfer{State: ledger.StateSigning, Reservation: &ledger.Reservation{At: at}}, true},
		{"signing, silent", ledger.Transfer{State: ledger.StateSigning, Reservation: &ledger.Reservation{At: now, Silent: true}}, true},
		{"signed long ago", ledger.Transfer{State: ledger.StateSigned, Reservation: &ledger.Reservation{At: at}}, false},
	} {
		if got := f.g.Stale(c.t, now); got != c.want {
			t.Errorf("%s: stale %v, want %v", c.name, got, c.want)
		}
	}
}
