package ledger

import (
	"bytes"
	"maps"
	"testing"
	"time"
)

// recorder is a SpendWatcher that keeps what it is told.
type recorder struct {
	spends map[string]Spend
	index  uint64
	resets int
}

func (r *recorder) SpendsSince() time.Time { return time.Time{} }
func (r *recorder) ResetSpends(s map[string]Spend, index uint64) error {
	r.spends, r.index = maps.Clone(s), index
	r.resets++
	return nil
}
func (r *recorder) SpendAdded(id string, s Spend) { r.spends[id] = s }
func (r *recorder) SpendRemoved(id string)        { delete(r.spends, id) }
func (r *recorder) Applied(index uint64)          { r.index = index }

// spendsByID reads the store's spends from scratch.
func spendsByID(t *testing.T, s *Store) map[string]Spend {
	t.Helper()
	out := map[string]Spend{}
	rec := &recorder{}
	if err := s.resetWatcher(rec); err != nil {
		t.Fatal(err)
	}
	maps.Copy(out, rec.spends)
	return out
}

// A watcher told of every change in commit order knows exactly the spends
// a from-scratch read finds, at the applied index, through refused
// commands, replays and a snapshot restore.
func TestSpendWatcherFollowsTheStore(t *testing.T) {
	src := openFast(t)
	w := &recorder{}
	if err := src.WatchSpends(w); err != nil {
		t.Fatal(err)
	}
	g := newCmdGen(5, 11)
	adds := 0
	for i := range uint64(400) {
		before := len(w.spends)
		_, _, _ = src.ApplyIndexed(i+1, origin(i+1), g.next())
		if len(w.spends) > before {
			adds++
		}
		if i%50 == 0 {
			_, _, _ = src.ApplyIndexed(i+1, origin(i+1), g.next()) // a replay: skipped, nothing told
		}
		if w.index != i+1 {
			t.Fatalf("after index %d the watcher is at %d", i+1, w.index)
		}
		if want := spendsByID(t, src); !maps.Equal(w.spends, want) {
			t.Fatalf("after index %d the watcher knows %d spends, the store holds %d", i+1, len(w.spends), len(want))
		}
	}
	if adds < 10 {
		t.Fatalf("only %d spends were added: the generator no longer reserves", adds)
	}
	if err := src.MarkApplied(401); err != nil || w.index != 401 {
		t.Fatalf("MarkApplied: %v, watcher at %d", err, w.index)
	}

	sn, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_ = sn.Close()
	dst := openFast(t)
	dw := &recorder{}
	if err := dst.WatchSpends(dw); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Restore(bytes.NewReader(buf.Bytes()[:buf.Len()-1])); err == nil {
		t.Fatal("a truncated snapshot was restored")
	}
	if dw.resets != 1 || len(dw.spends) != 0 {
		t.Fatalf("a refused restore told the watcher: %d resets, %d spends", dw.resets, len(dw.spends))
	}
	if _, err := dst.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if dw.index != 401 || !maps.Equal(dw.spends, w.spends) {
		t.Fatalf("after a restore the watcher is at %d with %d spends, want 401 with %d", dw.index, len(dw.spends), len(w.spends))
	}
}
