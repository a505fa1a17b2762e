package audit

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MaxEntriesPerRead bounds one Entries call; page through larger ranges.
const MaxEntriesPerRead = 1 << 16

// Entry is one logged record with its canonical encoding (the leaf).
type Entry struct {
	Index  uint64
	Leaf   []byte
	Record Record
}

// SignedCheckpoint is a checkpoint and its signed note (the node's
// signature, and any cosignatures added since).
type SignedCheckpoint struct {
	Checkpoint
	Note []byte
}

// Entries returns the committed entries [begin, end), decoded. A stored
// leaf that does not decode is ErrCorrupt.
func (l *Log) Entries(ctx context.Context, begin, end uint64) ([]Entry, error) {
	if size := l.Size(); begin > end || end > size || end-begin > MaxEntriesPerRead {
		return nil, fmt.Errorf("read audit entries [%d, %d) of %d: %w (at most %d per call)", begin, end, size, ErrRange, MaxEntriesPerRead)
	}
	out := make([]Entry, 0, end-begin)
	err := l.view(ctx, func(b buckets) error {
		for i := begin; i < end; i++ {
			leaf := b.leaves.Get(u64(i))
			if leaf == nil {
				return fmt.Errorf("%w: entry %d is missing", ErrCorrupt, i)
			}
			rec, err := DecodeRecord(leaf)
			if err != nil {
				return fmt.Errorf("%w: entry %d: %w", ErrCorrupt, i, err)
			}
			if rec.Index != i {
				return fmt.Errorf("%w: entry %d says index %d", ErrCorrupt, i, rec.Index)
			}
			out = append(out, Entry{Index: i, Leaf: bytes.Clone(leaf), Record: rec})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read audit entries [%d, %d): %w", begin, end, err)
	}
	return out, nil
}

// Latest returns the checkpoint of the committed size with its signed note.
func (l *Log) Latest(ctx context.Context) (SignedCheckpoint, error) {
	return l.Checkpoint(ctx, l.Size())
}

// Checkpoint returns the stored checkpoint of a tree size (every committed
// batch stored one), or ErrNotFound.
func (l *Log) Checkpoint(ctx context.Context, size uint64) (SignedCheckpoint, error) {
	var signed []byte
	err := l.view(ctx, func(b buckets) error {
		signed = bytes.Clone(b.checkpoints.Get(u64(size)))
		return nil
	})
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("read audit checkpoint %d: %w", size, err)
	}
	if signed == nil {
		return SignedCheckpoint{}, fmt.Errorf("read audit checkpoint %d: %w", size, ErrNotFound)
	}
	cp, _, err := OpenCheckpoint(signed, l.self)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("read audit checkpoint %d: %w: %w", size, ErrCorrupt, err)
	}
	return SignedCheckpoint{Checkpoint: cp, Note: signed}, nil
}

// view runs fn in a read transaction over the audit buckets.
func (l *Log) view(ctx context.Context, fn func(buckets) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.db.View(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		return fn(b)
	})
}
