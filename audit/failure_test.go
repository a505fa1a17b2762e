package audit

import (
	"context"
	"errors"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/audit/audittest"
	"github.com/cofferhq/coffer/hsm"
)

// appendBatch appends from many goroutines at once and returns each
// caller's error.
func appendBatch(l *Log, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = l.Append(context.Background(), transferRec(1000+i)) })
	}
	wg.Wait()
	return errs
}

// state is what a failed batch must leave unchanged.
func fileState(t *testing.T, n *testNode) (leaves, nodes, checkpoints int) {
	t.Helper()
	n.store.DB().View(func(tx *bolt.Tx) error {
		leaves = tx.Bucket(bucketLeaves).Stats().KeyN
		nodes = tx.Bucket(bucketTree).Stats().KeyN
		checkpoints = tx.Bucket(bucketCheckpoints).Stats().KeyN
		return nil
	})
	return
}

func TestAppendFailsClosed(t *testing.T) {
	tests := []struct {
		name   string
		inject func(n *testNode, ks *audittest.FailingKeystore, on bool)
		want   error
	}{
		{"fail/hsm", func(_ *testNode, ks *audittest.FailingKeystore, on bool) { ks.FailSign(on) }, ErrSign},
		{"fail/store", func(n *testNode, _ *audittest.FailingKeystore, on bool) {
			n.log.failCommit = nil
			if on {
				// The writes of the batch are done; the transaction then fails.
				n.log.failCommit = func(*bolt.Tx) error { return errors.New("injected disk failure") }
			}
		}, ErrStore},
	}
	for _, tc := range tests {
		for _, backend := range []string{"memory", "softhsm"} {
			t.Run(tc.name+"/"+backend, func(t *testing.T) {
				var inner hsm.Keystore = memKS(1)
				if backend == "softhsm" {
					inner = softHSM(t)
				}
				testFailClosed(t, audittest.NewFailingKeystore(inner), tc.inject, tc.want)
			})
		}
	}
}

func testFailClosed(t *testing.T, ks *audittest.FailingKeystore, inject func(*testNode, *audittest.FailingKeystore, bool), want error) {
	n := newTestNode(t, "node1", ks)
	n.append(t, oneOfEach(1)[:4]...)
	l0, n0, c0 := fileState(t, n)
	size := n.log.Size()

	// Only the committer reads failCommit, between batches: it is set while
	// no append runs.
	inject(n, ks, true)
	for i, err := range appendBatch(n.log, 32) {
		if !errors.Is(err, want) {
			t.Fatalf("caller %d: Append = %v, want %v", i, err, want)
		}
	}
	if l1, n1, c1 := fileState(t, n); l1 != l0 || n1 != n0 || c1 != c0 || n.log.Size() != size {
		t.Fatalf("a failed batch changed the log: leaves %d→%d, nodes %d→%d, checkpoints %d→%d, size %d→%d",
			l0, l1, n0, n1, c0, c1, size, n.log.Size())
	}

	inject(n, ks, false)
	for i, err := range appendBatch(n.log, 32) {
		if err != nil {
			t.Fatalf("caller %d after recovery: %v", i, err)
		}
	}
	if n.log.Size() != size+32 {
		t.Fatalf("size %d, want %d", n.log.Size(), size+32)
	}
	n.close()
	n.open(t) // the file's tail matches its signed checkpoint
	if _, err := verifyBundles(t, trustOf(t, 0, 0, n), nil, n.bundle(t)); err != nil {
		t.Fatalf("Verify after failures: %v", err)
	}
}

func TestAppendAfterStoreClosed(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	n.append(t, transferRec(1))
	n.store.Close() // the bbolt file goes away under the log
	if _, err := n.log.Append(context.Background(), transferRec(2)); !errors.Is(err, ErrStore) {
		t.Fatalf("Append on a closed store = %v, want ErrStore", err)
	}
	// The log refuses from now on: it cannot read its state back.
	if _, err := n.log.Append(context.Background(), transferRec(3)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("second Append = %v, want ErrCorrupt (unusable until reopened)", err)
	}
	n.log.Close()
	n.log, n.store = nil, nil
	n.open(t)
	if n.log.Size() != 1 {
		t.Fatalf("size after reopen = %d, want 1", n.log.Size())
	}
	n.append(t, transferRec(4))
	if _, err := verifyBundles(t, trustOf(t, 0, 0, n), nil, n.bundle(t)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}
