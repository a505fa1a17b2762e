package audit

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/ledger"
	"golang.org/x/mod/sumdb/note"
)

// TestRolledBackStoreRefusesToAppend rolls a node's store back (the db
// file copied after 5 entries, 4 more appended, the copy put back) and
// checks that the log, with the checkpoint file beside the store, refuses
// to open for appending, naming both sizes.
func TestRolledBackStoreRefusesToAppend(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	recs := plainRecords()
	n.append(t, recs[:5]...)
	n.close()
	old := n.path + ".old"
	copyFile(t, n.path, old)
	n.open(t)
	n.append(t, recs[5:9]...)
	n.close()
	copyFile(t, old, n.path)

	err := n.tryOpen(t)
	if !errors.Is(err, ErrRollback) {
		t.Fatalf("open rolled-back store: %v, want ErrRollback", err)
	}
	for _, want := range []string{"size 5", "records size 9", WatermarkPath(n.path), "Restoring a node"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestRewrittenStoreRefusesToAppend: the store rolled back and then given
// other entries up to the same size (the fork the checkpoint file is
// for): same size, another root.
func TestRewrittenStoreRefusesToAppend(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	recs := plainRecords()
	n.append(t, recs[:5]...)
	n.close()
	old := n.path + ".old"
	copyFile(t, n.path, old)
	n.open(t)
	n.append(t, recs[5])
	n.close()
	mark := WatermarkPath(n.path)
	copyFile(t, mark, mark+".signed")

	// roll back, as a node without the file would have gone on
	copyFile(t, old, n.path)
	if err := os.Remove(mark); err != nil {
		t.Fatal(err)
	}
	n.open(t)
	n.append(t, recs[7]) // size 6 again, another entry
	n.close()
	copyFile(t, mark+".signed", mark)

	err := n.tryOpen(t)
	if !errors.Is(err, ErrRollback) || !strings.Contains(err.Error(), "size 6 has another root") {
		t.Fatalf("open rewritten store: %v, want ErrRollback for size 6", err)
	}
}

// TestCheckpointFileWritten checks the file follows every commit, and
// that a missing one on an existing log is written from the store with a
// WARN.
func TestCheckpointFileWritten(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	mark := WatermarkPath(n.path)
	for i, r := range plainRecords()[:3] {
		n.append(t, r)
		cp, ok, err := ReadWatermark(mark, n.log.self)
		if err != nil || !ok || cp.Size != uint64(i+1) {
			t.Fatalf("after append %d: checkpoint file %+v, %v, %v", i+1, cp, ok, err)
		}
	}
	n.close()
	if err := os.Remove(mark); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	store, err := ledger.Open(n.path, ledger.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l, err := New(Config{Cluster: testCluster, Node: "node1"}, Deps{DB: store.DB(), Identity: n.ks.Identity(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "checkpoint file missing") {
		t.Errorf("no WARN for the missing file; logs:\n%s", logs.String())
	}
	if cp, ok, err := ReadWatermark(mark, l.self); err != nil || !ok || cp.Size != 3 {
		t.Fatalf("checkpoint file %+v, %v, %v; want size 3", cp, ok, err)
	}
}

// TestCheckpointFileTornWrite: a write torn by a crash damages only the
// slot it went to; the file then gives the previous checkpoint (the torn
// batch was not acknowledged, so nothing rests on it), and the log opens,
// bringing the file forward from the store. Both slots damaged is
// ErrCorrupt.
func TestCheckpointFileTornWrite(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	n.append(t, plainRecords()[:4]...)
	n.close()
	mark := WatermarkPath(n.path)
	data, err := os.ReadFile(mark)
	if err != nil {
		t.Fatal(err)
	}
	_, slot, err := readMarkSlots(data, n.vkeys(t))
	if err != nil {
		t.Fatal(err)
	}
	torn := bytes.Clone(data)
	for i := slot*markSlot + 40; i < slot*markSlot+80; i++ {
		torn[i] ^= 0xff
	}
	if err := os.WriteFile(mark, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if cp, ok, err := ReadWatermark(mark, n.vkeys(t)); err != nil || !ok || cp.Size != 3 {
		t.Fatalf("torn latest slot: %v %v %v, want the previous checkpoint (size 3)", cp.Size, ok, err)
	}
	n.open(t)
	n.close()
	if cp, _, err := ReadWatermark(mark, n.vkeys(t)); err != nil || cp.Size != 4 {
		t.Fatalf("after reopening: size %d, %v; want the file brought forward to 4", cp.Size, err)
	}
	both := bytes.Clone(torn)
	for i := (1-slot)*markSlot + 40; i < (1-slot)*markSlot+80; i++ {
		both[i] ^= 0xff
	}
	if err := os.WriteFile(mark, both, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadWatermark(mark, n.vkeys(t)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("both slots damaged: %v, want ErrCorrupt", err)
	}
}

// vkeys are the verifiers of the node's own checkpoints.
func (n *testNode) vkeys(t testing.TB) note.Verifiers {
	t.Helper()
	v, err := note.NewVerifier(n.vkey(t))
	if err != nil {
		t.Fatal(err)
	}
	return note.VerifierList(v)
}
