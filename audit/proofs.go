package audit

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
)

// InclusionProof returns the RFC 6962 inclusion proof of entry index in
// the tree of the given size, for proof.VerifyInclusion. The node IDs come
// from transparency-dev/merkle's proof package; their hashes from the
// stored tree.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if size > l.Size() || index >= size {
		return nil, fmt.Errorf("inclusion proof of %d in %d (log size %d): %w", index, size, l.Size(), ErrRange)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w: %w", index, size, ErrRange, err)
	}
	p, err := l.rehash(ctx, nodes)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w", index, size, err)
	}
	return p, nil
}

// ConsistencyProof returns the RFC 6962 consistency proof between the
// trees of size1 and size2, for proof.VerifyConsistency.
func (l *Log) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	if size1 > size2 || size2 > l.Size() {
		return nil, fmt.Errorf("consistency proof %d to %d (log size %d): %w", size1, size2, l.Size(), ErrRange)
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("consistency proof %d to %d: %w: %w", size1, size2, ErrRange, err)
	}
	p, err := l.rehash(ctx, nodes)
	if err != nil {
		return nil, fmt.Errorf("consistency proof %d to %d: %w", size1, size2, err)
	}
	return p, nil
}

// rehash reads the hashes of a proof's nodes and folds the ephemeral ones.
func (l *Log) rehash(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	var hashes [][]byte
	err := l.view(ctx, func(b buckets) error {
		var err error
		hashes, err = b.nodeHashes(nodes.IDs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}
