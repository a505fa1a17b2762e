package audit

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
)

func TestCosign(t *testing.T) {
	ctx := context.Background()
	nodes := newCluster(t, memKS(1), memKS(2), memKS(3))
	a, b := nodes[0], nodes[1]
	a.append(t, transferRec(1), transferRec(2))
	witness(t, b, a) // first sight: size 2
	// A fork of a: a copy of its file at size 2 that logged other entries.
	fork := forkNode(t, a, "fork", transferRec(90), transferRec(91), transferRec(92))
	forked, _ := fork.log.Latest(ctx)
	forkProof, _ := fork.log.ConsistencyProof(ctx, 2, 5)

	a.append(t, transferRec(3), transferRec(4), transferRec(5))
	latest, _ := a.log.Latest(ctx)
	old, _ := a.log.Checkpoint(ctx, 1)
	good, _ := a.log.ConsistencyProof(ctx, 2, 5)
	wrong, _ := a.log.ConsistencyProof(ctx, 1, 5)

	tests := []struct {
		name   string
		signed []byte
		proof  [][]byte
		want   error
	}{
		{"fail/inconsistent-proof", latest.Note, wrong, ErrInconsistent},
		{"fail/no-proof", latest.Note, nil, ErrInconsistent},
		{"fail/stale", old.Note, nil, ErrStale},
		{"fail/unknown-peer", mustLatest(t, newTestNode(t, "stranger", memKS(9))), nil, ErrSignature},
		{"ok/extends", latest.Note, good, nil},
		{"ok/same-again", latest.Note, nil, nil},
		{"fail/fork-same-size", forked.Note, forkProof, ErrFork},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := b.log.Cosign(ctx, tc.signed, tc.proof)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Cosign = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Cosign: %v", err)
			}
			if err := a.log.AddCosignatures(ctx, out); err != nil {
				t.Fatalf("AddCosignatures: %v", err)
			}
		})
	}
	stored, _ := a.log.Checkpoint(ctx, 5)
	_, n, err := OpenCheckpoint(stored.Note, a.log.allVerifiers())
	if err != nil || len(Cosigners(n, a.origin())) != 1 {
		t.Fatalf("stored checkpoint 5: cosigners %v, %v", n, err)
	}
	if err := a.log.AddCosignatures(ctx, forked.Note); !errors.Is(err, ErrFork) {
		t.Fatalf("AddCosignatures(fork) = %v, want ErrFork", err)
	}
}

func mustLatest(t *testing.T, n *testNode) []byte {
	sc, err := n.log.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sc.Note
}

// forkNode copies n's file as it is now into a new node with n's identity
// and appends recs there: the copy signs a second history of n's origin.
func forkNode(t *testing.T, n *testNode, dir string, recs ...Record) *testNode {
	t.Helper()
	n.close()
	f := &testNode{name: n.name, path: t.TempDir() + "/" + dir + ".db", ks: n.ks, peers: n.peers}
	copyFile(t, n.path, f.path)
	n.open(t)
	f.open(t)
	t.Cleanup(f.close)
	f.append(t, recs...)
	return f
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
