package audit

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// plainRecords are 12 records without signatures (no cross-node backing
// needed), appended one by one: one signed checkpoint per size.
func plainRecords() []Record {
	var out []Record
	for i := range 4 {
		out = append(out, transferRec(i), approvalRec(i), decisionRec(i, EffectPending))
	}
	return out
}

// TestTamperingCaughtAndNamed edits node1's bbolt file as an attacker with
// the file and without the HSM could, and checks that Verify names the
// first bad entry or checkpoint. node2 holds a cosigned copy of node1's
// checkpoint of size 12.
func TestTamperingCaughtAndNamed(t *testing.T) {
	rogue, _ := NewNoteSigner("coffer/t/node1", memKS(66).Identity()) // node1's name, another key
	forge := func(index uint64) []byte {
		r := decisionRec(99, EffectAllow)
		r.V, r.Index = 1, index
		leaf, err := EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		return leaf
	}
	resign := func(b buckets, size uint64, s note.Signer) error {
		cp, _, err := OpenCheckpoint(b.checkpoints.Get(u64(size)), note.VerifierList())
		if cp.Size != size {
			return fmt.Errorf("checkpoint %d: %v", size, err)
		}
		msg, err := note.Sign(&note.Note{Text: string(cp.Text())}, s)
		if err != nil {
			return err
		}
		return b.checkpoints.Put(u64(size), msg)
	}
	tests := []struct {
		name        string
		edit        func(b buckets) error
		want        error
		first, last uint64 // the entries named (EntryError)
		cpSize      uint64 // the checkpoint named (CheckpointError)
		noWitness   bool   // verify node1's bundle alone
	}{
		{name: "ok/untouched", edit: func(buckets) error { return nil }},
		{name: "fail/entry-changed", edit: func(b buckets) error {
			rec, err := DecodeRecord(b.leaves.Get(u64(5)))
			if err != nil {
				return err
			}
			rec.Decision.Reason = "approved by mallory"
			leaf, err := EncodeRecord(rec)
			if err != nil {
				return err
			}
			return b.leaves.Put(u64(5), leaf)
		}, want: ErrEntryChanged, first: 5, last: 5},
		{name: "fail/entry-bytes-flipped", edit: func(b buckets) error {
			leaf := append([]byte(nil), b.leaves.Get(u64(5))...)
			leaf[0] = '['
			return b.leaves.Put(u64(5), leaf)
		}, want: ErrMalformed, first: 5, last: 5},
		{name: "fail/entry-removed", edit: func(b buckets) error { return b.leaves.Delete(u64(5)) },
			want: ErrEntryOrder, first: 5, last: 5},
		{name: "fail/entries-reordered", edit: func(b buckets) error {
			five, six := append([]byte(nil), b.leaves.Get(u64(5))...), append([]byte(nil), b.leaves.Get(u64(6))...)
			if err := b.leaves.Put(u64(5), six); err != nil {
				return err
			}
			return b.leaves.Put(u64(6), five)
		}, want: ErrEntryOrder, first: 5, last: 5},
		{name: "fail/entry-inserted", edit: func(b buckets) error {
			for i := uint64(11); i >= 5; i-- { // shift 5.. up by one
				if err := b.leaves.Put(u64(i+1), append([]byte(nil), b.leaves.Get(u64(i))...)); err != nil {
					return err
				}
			}
			return b.leaves.Put(u64(5), forge(5))
		}, want: ErrEntryChanged, first: 5, last: 5},
		{name: "fail/entry-appended-unsigned", edit: func(b buckets) error { return b.leaves.Put(u64(12), forge(12)) },
			want: ErrUnsigned, first: 12, last: 12},
		{name: "fail/truncated", edit: func(b buckets) error {
			for i := uint64(9); i < 12; i++ {
				if err := b.leaves.Delete(u64(i)); err != nil {
					return err
				}
			}
			return nil
		}, want: ErrTruncated, first: 9, last: 11, noWitness: true},
		{name: "fail/truncated-with-its-checkpoints", edit: func(b buckets) error {
			for i := uint64(9); i < 12; i++ {
				if err := b.leaves.Delete(u64(i)); err != nil {
					return err
				}
				if err := b.checkpoints.Delete(u64(i + 1)); err != nil {
					return err
				}
			}
			return nil // only node2's cosigned copy of size 12 remembers
		}, want: ErrTruncated, first: 9, last: 11},
		{name: "fail/checkpoint-resigned-by-another-key", edit: func(b buckets) error { return resign(b, 7, rogue) },
			want: ErrSignature, cpSize: 7, noWitness: true},
		{name: "fail/entry-changed-and-checkpoints-resigned", edit: func(b buckets) error {
			if err := b.leaves.Put(u64(5), forge(5)); err != nil {
				return err
			}
			for size := uint64(6); size <= 12; size++ {
				if err := resign(b, size, rogue); err != nil {
					return err
				}
			}
			return nil
		}, want: ErrSignature, cpSize: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes := newCluster(t, memKS(1), memKS(2))
			n1, n2 := nodes[0], nodes[1]
			n1.append(t, plainRecords()...)
			witness(t, n2, n1)
			n1.edit(t, tc.edit)
			bundles := [][]byte{n1.bundle(t), n2.bundle(t)}
			trust := trustOf(t, 0, 0, n1, n2)
			if tc.noWitness {
				bundles, trust = bundles[:1], trustOf(t, 0, 0, n1)
			}
			_, err := verifyBundles(t, trust, nil, bundles...)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			var ee *EntryError
			var ce *CheckpointError
			switch {
			case errors.As(err, &ee):
				if ee.Node != n1.origin() || ee.Index != tc.first || ee.Last != tc.last {
					t.Fatalf("Verify named %s entries %d..%d, want %s %d..%d", ee.Node, ee.Index, ee.Last, n1.origin(), tc.first, tc.last)
				}
			case errors.As(err, &ce):
				if ce.Node != n1.origin() || ce.Size != tc.cpSize {
					t.Fatalf("Verify named %s checkpoint %d, want %s %d", ce.Node, ce.Size, n1.origin(), tc.cpSize)
				}
			default:
				t.Fatalf("Verify error %T names no entry or checkpoint", err)
			}
		})
	}
}

// TestTruncatedTailRefusedOnOpen: the node itself refuses to start on a
// file whose tail lost entries its latest checkpoint covers.
func TestTruncatedTailRefusedOnOpen(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	n.append(t, plainRecords()...)
	n.edit(t, func(b buckets) error { return b.leaves.Delete(u64(11)) })
	if err := n.tryOpen(t); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open = %v, want ErrCorrupt", err)
	}
}
