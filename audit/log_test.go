package audit

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
)

func TestNewRefuses(t *testing.T) {
	store, err := ledger.Open(t.TempDir()+"/x.db", ledger.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ks := memKS(1)
	good := Deps{DB: store.DB(), Identity: ks.Identity(), Logger: testLogger(t)}
	tests := []struct {
		name string
		cfg  Config
		deps Deps
		want string
	}{
		{"fail/no-db", Config{Cluster: "c", Node: "n"}, Deps{Identity: ks.Identity(), Logger: testLogger(t)}, "missing DB"},
		{"fail/no-identity", Config{Cluster: "c", Node: "n"}, Deps{DB: store.DB(), Logger: testLogger(t)}, "missing identity"},
		{"fail/no-logger", Config{Cluster: "c", Node: "n"}, Deps{DB: store.DB(), Identity: ks.Identity()}, "missing logger"},
		{"fail/bad-node-name", Config{Cluster: "c", Node: "a/b"}, good, "node name"},
		{"fail/bad-peer", Config{Cluster: "c", Node: "n", Peers: []string{"nonsense"}}, good, "peer key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, tc.deps)
			if err == nil || !contains(err, tc.want) {
				t.Fatalf("New = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestAppendSequential(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	ctx := context.Background()
	for i, rec := range oneOfEach(1) {
		idx, err := n.log.Append(ctx, rec)
		if err != nil || idx != uint64(i) {
			t.Fatalf("Append %d = %d, %v", i, idx, err)
		}
	}
	first, err := n.log.AppendAll(ctx, []Record{transferRec(2), decisionRec(2, EffectDeny)})
	if err != nil || first != 9 || n.log.Size() != 11 {
		t.Fatalf("AppendAll = %d, %v; size %d", first, err, n.log.Size())
	}
	entries := readAll(t, n.log)
	for i, e := range entries {
		if e.Index != uint64(i) || e.Record.Index != uint64(i) || e.Record.V != RecordVersion {
			t.Fatalf("entry %d: index %d, record index %d, v %d", i, e.Index, e.Record.Index, e.Record.V)
		}
	}
	latest, err := n.log.Latest(ctx)
	if err != nil || latest.Size != 11 {
		t.Fatalf("Latest = %+v, %v", latest.Checkpoint, err)
	}
	// Reopen: the state comes back from the file.
	root := latest.Hash
	n.close()
	n.open(t)
	if n.log.Size() != 11 {
		t.Fatalf("size after reopen = %d", n.log.Size())
	}
	if idx, err := n.log.Append(ctx, transferRec(3)); err != nil || idx != 11 {
		t.Fatalf("Append after reopen = %d, %v", idx, err)
	}
	cp, err := n.log.Checkpoint(ctx, 11)
	if err != nil || string(cp.Hash) != string(root) {
		t.Fatalf("Checkpoint(11) = %v, %v", cp.Checkpoint, err)
	}
	// One node alone cannot back its t=1 signature (entry 7).
	_, err = verifyBundles(t, trustOf(t, 0, 0, n), nil, n.bundle(t))
	var ee *EntryError
	if !errors.As(err, &ee) || !errors.Is(err, ErrUnbacked) || ee.Index != 7 {
		t.Fatalf("Verify = %v, want ErrUnbacked at entry 7", err)
	}
}

func TestAppendConcurrentBatches(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	const workers, each = 64, 40
	var mu sync.Mutex
	var got []uint64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				idx, err := n.log.Append(context.Background(), transferRec(w*each+i))
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				got = append(got, idx)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, idx := range got {
		if idx != uint64(i) {
			t.Fatalf("indexes are not 0..%d: position %d holds %d", len(got)-1, i, idx)
		}
	}
	checkpoints := countCheckpoints(t, n)
	t.Logf("%d appends in %d batches", len(got), checkpoints-1)
	if checkpoints-1 >= len(got) {
		t.Errorf("no batching: %d checkpoints for %d appends", checkpoints, len(got))
	}
	if _, err := verifyBundles(t, trustOf(t, 0, 0, n), nil, n.bundle(t)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func countCheckpoints(t testing.TB, n *testNode) int {
	count := 0
	n.store.DB().View(func(tx *bolt.Tx) error {
		count = tx.Bucket(bucketCheckpoints).Stats().KeyN
		return nil
	})
	return count
}

func TestReopenRefusesOtherIdentity(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	n.append(t, transferRec(1))
	n.close()
	tests := []struct {
		name string
		node string
		ks   *hsmtest.Memory
	}{
		{"fail/other-key", "node1", memKS(2)},
		{"fail/other-origin", "node2", memKS(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &testNode{name: tc.node, path: n.path, ks: tc.ks}
			err := m.tryOpen(t)
			m.close()
			if !errors.Is(err, ErrIdentity) {
				t.Fatalf("open = %v, want ErrIdentity", err)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	n.append(t, transferRec(1), transferRec(2))
	ctx := context.Background()
	if _, err := n.log.Entries(ctx, 1, 3); !errors.Is(err, ErrRange) {
		t.Errorf("Entries past the end = %v", err)
	}
	if _, err := n.log.Entries(ctx, 2, 1); !errors.Is(err, ErrRange) {
		t.Errorf("Entries reversed = %v", err)
	}
	if _, err := n.log.InclusionProof(ctx, 2, 2); !errors.Is(err, ErrRange) {
		t.Errorf("InclusionProof of index = size: %v", err)
	}
	if _, err := n.log.ConsistencyProof(ctx, 1, 3); !errors.Is(err, ErrRange) {
		t.Errorf("ConsistencyProof past the end: %v", err)
	}
	if _, err := n.log.Checkpoint(ctx, 7); !errors.Is(err, ErrNotFound) {
		t.Errorf("Checkpoint(7) = %v", err)
	}
	if _, err := n.log.Append(ctx, Record{Kind: KindDecision}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Append(invalid) = %v", err)
	}
	if _, err := n.log.AppendAll(ctx, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("AppendAll(nil) = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := n.log.Append(cancelled, transferRec(3)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append(cancelled) = %v", err)
	}
	if err := n.log.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.log.Append(ctx, transferRec(3)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if err := n.log.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

func contains(err error, s string) bool {
	return err != nil && (s == "" || stringsContains(err.Error(), s))
}
