package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestApplyIndexed: each log index applies once (a replay after a restart
// changes nothing), a refused command counts as applied and changes no
// transfer, and every node reaches the same state from the same entries.
func TestApplyIndexed(t *testing.T) {
	s := openTemp(t)
	if _, _, err := s.ApplyIndexed(1, origin(1), submit("t1", StateReady)); err != nil {
		t.Fatal(err)
	}
	before := dump(t, s, transferBuckets...)
	if _, skipped, err := s.ApplyIndexed(1, origin(2), submit("t2", StateReady)); err != nil || !skipped {
		t.Fatalf("replayed index 1: skipped=%v err=%v", skipped, err)
	}
	if !bytes.Equal(before, dump(t, s, transferBuckets...)) {
		t.Fatal("fail/a replayed index changed the state")
	}
	_, _, err := s.ApplyIndexed(2, origin(3), submit("t1", StateDenied)) // same ID, another intent state is fine; digest equal → idempotent
	if err != nil {
		t.Fatalf("idempotent resubmission at index 2: %v", err)
	}
	conflict := submit("t1", StateReady)
	conflict.Submit.Intent = []byte("another intent")
	_, _, err = s.ApplyIndexed(3, origin(4), conflict)
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/conflicting submit: got %v, want a refusal wrapping ErrConflict", err)
	}
	if idx, _ := s.AppliedIndex(); idx != 3 {
		t.Fatalf("applied index after a refusal = %d, want 3", idx)
	}
	if !bytes.Equal(before, dump(t, s, transferBuckets...)) {
		t.Fatal("fail/a refused command changed the state")
	}
	_, _, err = s.ApplyIndexed(4, origin(5), Command{Kind: "bogus", At: at(1), Node: "n1", ID: "t1"})
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("fail/malformed command: got %v, want a refusal wrapping ErrInvalid", err)
	}
	if err := s.MarkApplied(5); err != nil {
		t.Fatal(err)
	}
	if idx, _ := s.AppliedIndex(); idx != 5 {
		t.Fatalf("applied index = %d, want 5", idx)
	}
	if _, _, err := s.ApplyIndexed(0, origin(6), submit("t9", StateReady)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("index 0: %v", err)
	}

	// the same entries, including refused ones, on another node
	a, b := openFast(t), openFast(t)
	a.SetApprovalVerifier(fakeVerifier{})
	b.SetApprovalVerifier(fakeVerifier{})
	g := newCmdGen(7, 1)
	for i := range uint64(500) {
		c := g.next()
		ta, _, errA := a.ApplyIndexed(i+1, origin(i+1), c)
		tb, _, errB := b.ApplyIndexed(i+1, origin(i+1), c)
		if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(ta, tb) {
			t.Fatalf("nodes diverged at %d: %v / %v", i+1, errA, errB)
		}
		if errA != nil && !errors.Is(errA, ErrRefused) {
			t.Fatalf("entry %d failed (not refused): %v", i+1, errA)
		}
	}
	if !bytes.Equal(dump(t, a, replicatedBuckets...), dump(t, b, replicatedBuckets...)) {
		t.Fatal("replicated buckets differ")
	}
}

// TestSnapshotRestore: a snapshot carries exactly the replicated buckets
// and the applied index; restoring it elsewhere gives identical replicated
// state and keeps the node's own buckets; a damaged snapshot changes
// nothing.
func TestSnapshotRestore(t *testing.T) {
	src := openFast(t)
	g := newCmdGen(3, 9)
	for i := range uint64(300) {
		_, _, _ = src.ApplyIndexed(i+1, origin(i+1), g.next())
	}
	if err := src.AppendPolicy(PolicyVersion{Document: []byte("doc"), Signatures: [][]byte{[]byte("s")}, At: at(1), Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := src.SetMeta("local", "source node only"); err != nil {
		t.Fatal(err)
	}
	sn, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := sn.Close(); err != nil {
		t.Fatal(err)
	}
	if sn.Index() != 300 {
		t.Fatalf("snapshot index %d, want 300", sn.Index())
	}
	good := buf.Bytes()

	dst := openFast(t)
	if err := dst.SetMeta("local", "destination node"); err != nil {
		t.Fatal(err)
	}
	_, _, _ = dst.ApplyIndexed(1, origin(1), submit("stale", StateReady)) // replaced by the snapshot
	t.Run("fail/damaged snapshots change nothing", func(t *testing.T) {
		before := dump(t, dst)
		flipped := bytes.Clone(good)
		flipped[len(flipped)/2] ^= 1
		for name, b := range map[string][]byte{
			"flipped byte": flipped, "truncated": good[:len(good)-40], "empty": nil,
			"not a snapshot": []byte("hello world, this is no snapshot at all......"),
		} {
			if _, err := dst.Restore(bytes.NewReader(b)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: got %v, want ErrCorrupt", name, err)
			}
			if !bytes.Equal(before, dump(t, dst)) {
				t.Fatalf("%s: a refused snapshot changed the store", name)
			}
		}
	})
	idx, err := dst.Restore(bytes.NewReader(good))
	if err != nil || idx != 300 {
		t.Fatalf("restore: %d %v", idx, err)
	}
	if !bytes.Equal(dump(t, src, replicatedBuckets...), dump(t, dst, replicatedBuckets...)) {
		t.Fatal("restored replicated buckets differ from the source's")
	}
	if v, _ := dst.Meta("local"); v != "destination node" {
		t.Fatalf("node-local meta = %q after restore", v)
	}
	if got, _ := dst.AppliedIndex(); got != 300 {
		t.Fatalf("applied index after restore = %d", got)
	}
	// the log continues from the snapshot on both nodes alike
	c := g.next()
	ta, _, errA := src.ApplyIndexed(301, origin(301), c)
	tb, _, errB := dst.ApplyIndexed(301, origin(301), c)
	if fmt.Sprint(errA) != fmt.Sprint(errB) || !reflect.DeepEqual(ta, tb) ||
		!bytes.Equal(dump(t, src, replicatedBuckets...), dump(t, dst, replicatedBuckets...)) {
		t.Fatal("nodes diverged after the restore")
	}
}

func origin(seq uint64) Origin { return Origin{Node: "n1", Seq: seq} }

// fakeVerifier accepts the fixtures' approval signatures ("sig:officer:verdict").
type fakeVerifier struct{}

func (fakeVerifier) VerifyApproval(_ string, _ []byte, a Approval) error {
	if string(a.Signature) != "sig:"+a.Officer+":"+a.Verdict {
		return errors.New("bad signature")
	}
	return nil
}
