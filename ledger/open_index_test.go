package ledger

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// checkOpenIndex compares OpenTransfers with a scan of every transfer.
func checkOpenIndex(t *testing.T, s *Store) int {
	t.Helper()
	all, err := s.Transfers(TransferFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	homes := map[string]bool{"nobody": true}
	for _, tr := range all {
		homes[tr.Home] = true
		if !tr.State.Final() {
			want[tr.Home] = append(want[tr.Home], tr.ID)
		}
	}
	open := 0
	for home := range homes {
		got, err := s.OpenTransfers(home)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tr := range got {
			if tr.Home != home || tr.State.Final() {
				t.Fatalf("OpenTransfers(%s) lists %s (%s, home %s)", home, tr.ID, tr.State, tr.Home)
			}
			ids = append(ids, tr.ID)
		}
		slices.Sort(ids)
		w := want[home]
		slices.Sort(w)
		if !slices.Equal(ids, w) {
			t.Fatalf("OpenTransfers(%s) = %v, a full scan says %v", home, ids, w)
		}
		open += len(ids)
	}
	return open
}

// The open-transfer index follows every command, survives a snapshot
// restore and is rebuilt for a file written before it existed.
func TestOpenTransfersIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	src, err := Open(path, Options{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	g := newCmdGen(5, 40)
	for i := range uint64(600) {
		_, _, _ = src.ApplyIndexed(i+1, origin(i+1), g.next())
		if i%100 == 99 {
			checkOpenIndex(t, src)
		}
	}
	open := checkOpenIndex(t, src)
	all, _ := src.Transfers(TransferFilter{})
	t.Logf("%d transfers, %d open", len(all), open)
	if open == 0 || open == len(all) {
		t.Fatalf("the generator left %d of %d open: the test shows nothing", open, len(all))
	}

	t.Run("ok/after a snapshot restore", func(t *testing.T) {
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
		if _, err := dst.Restore(&buf); err != nil {
			t.Fatal(err)
		}
		checkOpenIndex(t, dst)
	})
	t.Run("ok/rebuilt for a file without it", func(t *testing.T) {
		if err := src.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketOpen) }); err != nil {
			t.Fatal(err)
		}
		_ = src.Close()
		again, err := Open(path, Options{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if checkOpenIndex(t, again) != open {
			t.Fatal("the rebuilt index lists another number of open transfers")
		}
	})
}
