package audit

import (
	"context"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// TestProofsVerifyWithMerkleAlone: inclusion and consistency proofs from a
// SoftHSM-signed log verify with transparency-dev/merkle's proof package
// against roots read from signed checkpoints, for every index and every
// pair of sizes of a 70-entry log.
func TestProofsVerifyWithMerkleAlone(t *testing.T) {
	ks := softHSM(t)
	n := newTestNode(t, "node1", ks)
	ctx := context.Background()
	const total = 70
	var leaves [][]byte
	for i := range total {
		n.append(t, transferRec(i)) // one checkpoint per size
	}
	for _, e := range readAll(t, n.log) {
		leaves = append(leaves, e.Leaf)
	}
	v, _ := note.NewVerifier(n.log.VerifierKey())
	roots := make([][]byte, total+1)
	for size := range uint64(total + 1) {
		sc, err := n.log.Checkpoint(ctx, size)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := note.Open(sc.Note, note.VerifierList(v))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := ParseCheckpoint([]byte(opened.Text))
		if err != nil {
			t.Fatal(err)
		}
		roots[size] = cp.Hash
	}
	h := rfc6962.DefaultHasher
	for size := uint64(1); size <= total; size++ {
		for i := range size {
			p, err := n.log.InclusionProof(ctx, i, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", i, size, err)
			}
			if err := proof.VerifyInclusion(h, i, size, h.HashLeaf(leaves[i]), p, roots[size]); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", i, size, err)
			}
			if i == 0 && size > 1 {
				if err := proof.VerifyInclusion(h, i, size, h.HashLeaf(leaves[1]), p, roots[size]); err == nil {
					t.Fatalf("inclusion proof of %d in %d accepted another leaf", i, size)
				}
			}
		}
	}
	for s1 := range uint64(total + 1) {
		for s2 := s1; s2 <= total; s2++ {
			p, err := n.log.ConsistencyProof(ctx, s1, s2)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", s1, s2, err)
			}
			if err := proof.VerifyConsistency(h, s1, s2, p, roots[s1], roots[s2]); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", s1, s2, err)
			}
		}
	}
	p, _ := n.log.ConsistencyProof(ctx, 5, 9)
	if err := proof.VerifyConsistency(h, 5, 9, p, roots[6], roots[9]); err == nil {
		t.Fatal("a consistency proof verified against the wrong old root")
	}
}
