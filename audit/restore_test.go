package audit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// restoreInto runs RestoreTail on the (closed) node's file with bundle.
func restoreInto(t *testing.T, n *testNode, bundle []byte) (Restored, error) {
	t.Helper()
	db, err := bolt.Open(n.path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b, err := ReadBundle("tail.bundle", bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(n.vkey(t))
	if err != nil {
		t.Fatal(err)
	}
	return RestoreTail(context.Background(), db, b, note.VerifierList(v))
}

// TestRestoreTail rolls a store back to a copy of 5 entries (as a
// snapshot would) and puts back the 4 entries after it from a bundle the
// node exported before: the log is the same as before byte for byte, and
// the node opens and appends (the checkpoint file no longer refuses it).
func TestRestoreTail(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	recs := plainRecords()
	n.append(t, recs[:5]...)
	n.close()
	snap := n.path + ".snap"
	copyFile(t, n.path, snap)
	n.open(t)
	n.append(t, recs[5:9]...)
	before := n.bundle(t)
	n.close()
	copyFile(t, snap, n.path)
	if err := n.tryOpen(t); !errors.Is(err, ErrRollback) {
		t.Fatalf("open rolled-back store: %v, want ErrRollback", err)
	}

	got, err := restoreInto(t, n, before)
	if err != nil {
		t.Fatalf("restore tail: %v", err)
	}
	if got.From != 5 || got.To != 9 || got.Checkpoints != 4 {
		t.Fatalf("restored %+v, want entries 5..9 with 4 checkpoints", got)
	}
	n.open(t)
	if after := n.bundle(t); !bytes.Equal(after, before) {
		t.Fatalf("the restored log differs from the one exported before (%d vs %d bytes)", len(after), len(before))
	}
	n.append(t, recs[9])
	if s := n.log.Size(); s != 10 {
		t.Fatalf("size after restore and one append: %d", s)
	}
}

// TestRestoreTailRefuses: a bundle whose entries were changed, or another
// node's log, puts nothing back.
func TestRestoreTailRefuses(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	other := newTestNode(t, "node2", memKS(2))
	recs := plainRecords()
	n.append(t, recs[:3]...)
	other.append(t, recs[:6]...)
	n.close()
	snap := n.path + ".snap"
	copyFile(t, n.path, snap)
	n.open(t)
	n.append(t, recs[3:6]...)
	good := n.bundle(t)
	n.close()

	// the bundle's 5th entry (index 4) swapped for the 6th: the same
	// records, another order, so no checkpoint's root matches past 4
	lines := bytes.SplitAfter(good, []byte("\n"))
	k := len(lines) - 1 - 6 // lines: header, checkpoints, 6 entries, ""
	swapped := bytes.Clone(good)
	lines2 := bytes.SplitAfter(swapped, []byte("\n"))
	lines2[k+4], lines2[k+5] = lines2[k+5], lines2[k+4]
	swapped = bytes.Join(lines2, nil)

	for _, c := range []struct {
		name, want string
		bundle     []byte
	}{
		{"entries reordered", "do not hash", swapped},
		{"another node's log", "not of", other.bundle(t)},
	} {
		t.Run("fail/"+c.name, func(t *testing.T) {
			copyFile(t, snap, n.path)
			got, err := restoreInto(t, n, c.bundle)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("restore with %s: %v (%+v), want an error saying %q", c.name, err, got, c.want)
			}
			db, err := bolt.Open(n.path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_ = db.View(func(tx *bolt.Tx) error {
				st, err := CheckStored(context.Background(), tx)
				if err != nil || st.Size != 3 {
					t.Fatalf("after a refused restore: size %d, %v; want the copy's 3 entries unchanged", st.Size, err)
				}
				return nil
			})
		})
	}
}

// TestAheadRefusesAppends: a peer hands back a checkpoint of this log
// that is larger than the store (the store and its checkpoint file were
// both rolled back): every later append is refused, the checkpoint file
// records it, and the node stays refused after a restart. A checkpoint
// the store holds, or one not signed by this node, changes nothing.
func TestAheadRefusesAppends(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	recs := plainRecords()
	n.append(t, recs[:3]...)
	n.close()
	snap := n.path + ".snap"
	copyFile(t, n.path, snap)
	copyFile(t, WatermarkPath(n.path), snap+".mark")
	n.open(t)
	n.append(t, recs[3:6]...)
	latest, err := n.log.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n.close()
	copyFile(t, snap, n.path)
	copyFile(t, snap+".mark", WatermarkPath(n.path))
	n.open(t) // store and file rolled back together: nothing local can tell

	held, err := n.log.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.log.Ahead(held.Note); err != nil {
		t.Fatalf("Ahead with the store's own latest checkpoint: %v", err)
	}
	forged := newTestNode(t, "node1", memKS(9)) // same origin, another key
	forged.append(t, recs[:6]...)
	fl, _ := forged.log.Latest(context.Background())
	if err := n.log.Ahead(fl.Note); err == nil || errors.Is(err, ErrRollback) {
		t.Fatalf("Ahead with a checkpoint another key signed: %v, want a signature error", err)
	}
	if _, err := n.log.Append(context.Background(), recs[6]); err != nil {
		t.Fatalf("append before any true Ahead: %v", err)
	}

	if err := n.log.Ahead(latest.Note); !errors.Is(err, ErrRollback) {
		t.Fatalf("Ahead with a later checkpoint of this log: %v, want ErrRollback", err)
	}
	if _, err := n.log.Append(context.Background(), recs[7]); !errors.Is(err, ErrRollback) {
		t.Fatalf("append after Ahead: %v, want ErrRollback", err)
	}
	n.close()
	if err := n.tryOpen(t); !errors.Is(err, ErrRollback) {
		t.Fatalf("reopen after Ahead: %v, want ErrRollback from the checkpoint file", err)
	}
}

// TestAheadBelowTheStore: a store rolled back with its checkpoint file and
// then grown past what a peer cosigned is caught too: the peer's smaller
// checkpoint is compared with the store's own tree at that size.
func TestAheadBelowTheStore(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	recs := plainRecords()
	n.append(t, recs[:3]...)
	n.close()
	snap := n.path + ".snap"
	copyFile(t, n.path, snap)
	copyFile(t, WatermarkPath(n.path), snap+".mark")
	n.open(t)
	n.append(t, recs[3:5]...)
	cosigned, err := n.log.Latest(context.Background()) // size 5, the peer holds it
	if err != nil {
		t.Fatal(err)
	}
	if err := n.log.Ahead(cosigned.Note); err != nil {
		t.Fatalf("Ahead with the store's own checkpoint: %v", err)
	}
	n.append(t, recs[5])
	if err := n.log.Ahead(cosigned.Note); err != nil {
		t.Fatalf("Ahead with an earlier checkpoint of the same history: %v", err)
	}
	n.close()
	copyFile(t, snap, n.path)
	copyFile(t, snap+".mark", WatermarkPath(n.path))
	n.open(t)
	n.append(t, recs[6], recs[7], recs[8]) // size 6: past 5, on another history
	if err := n.log.Ahead(cosigned.Note); !errors.Is(err, ErrRollback) {
		t.Fatalf("Ahead with a smaller checkpoint of another history: %v, want ErrRollback", err)
	}
	if _, err := n.log.Append(context.Background(), recs[9]); !errors.Is(err, ErrRollback) {
		t.Fatalf("append after: %v, want ErrRollback", err)
	}
}
