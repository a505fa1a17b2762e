package audit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// exportChunk is the number of stored values read per read transaction,
// so that exporting a large log never holds one long transaction (which
// would stall the file's growth under appends).
const exportChunk = 4096

// Export writes the log as a bundle (see the package documentation): the
// header, every stored checkpoint with its cosignatures, the peers'
// checkpoints this node cosigned, and every entry. It dumps the file as
// it is, without checking it — Verify does — up to the entries present
// when it starts; entries appended meanwhile are left out.
func (l *Log) Export(ctx context.Context, w io.Writer) error { return Export(ctx, l.db, w) }

// Export writes the audit log of a bbolt file as a bundle, without needing
// the node's HSM: a stopped node's file can be exported offline.
func Export(ctx context.Context, db *bolt.DB, w io.Writer) error {
	var h BundleHeader
	var lastCP, lastCosig, lastLeaf []byte
	err := db.View(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		h = BundleHeader{Format: BundleFormat, Origin: string(b.meta.Get(metaOrigin)), Key: string(b.meta.Get(metaKey))}
		lastCP, _ = b.checkpoints.Cursor().Last()
		lastCosig, _ = b.cosigs.Cursor().Last()
		lastLeaf, _ = b.leaves.Cursor().Last()
		lastCP, lastCosig, lastLeaf = bytes.Clone(lastCP), bytes.Clone(lastCosig), bytes.Clone(lastLeaf)
		return nil
	})
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	bw := &bundleWriter{w: bufio.NewWriterSize(w, 1<<20)}
	if err := bw.json(h); err != nil {
		return fmt.Errorf("export audit log %s: %w", h.Origin, err)
	}
	sections := []struct {
		bucket []byte
		last   []byte
		write  func(k, v []byte) error
	}{
		{bucketCheckpoints, lastCP, func(_, v []byte) error { return bw.json(bundleNote{Checkpoint: string(v)}) }},
		{bucketCosigs, lastCosig, func(_, v []byte) error { return bw.json(bundleNote{Witnessed: string(v)}) }},
		{bucketLeaves, lastLeaf, func(k, v []byte) error {
			if err := bw.leaf(v); err != nil {
				return fmt.Errorf("%w: leaf key %x: %w", ErrCorrupt, k, err)
			}
			return nil
		}},
	}
	for _, s := range sections {
		if err := exportBucket(ctx, db, s.bucket, s.last, s.write); err != nil {
			return fmt.Errorf("export audit log %s: %s: %w", h.Origin, s.bucket, err)
		}
	}
	if err := bw.w.Flush(); err != nil {
		return fmt.Errorf("export audit log %s: %w", h.Origin, err)
	}
	return nil
}

// exportBucket calls write for each key-value of a bucket in key order,
// up to and including the key last, reading exportChunk values per
// transaction.
func exportBucket(ctx context.Context, db *bolt.DB, bucket, last []byte, write func(k, v []byte) error) error {
	if last == nil {
		return nil
	}
	var after []byte // the last key written
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done := false
		err := db.View(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucket)
			if bk == nil {
				return fmt.Errorf("%w: bucket missing", ErrCorrupt)
			}
			c := bk.Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for n := 0; n < exportChunk; n++ {
				if k == nil || bytes.Compare(k, last) > 0 {
					done = true
					return nil
				}
				if err := write(k, v); err != nil {
					return err
				}
				after = bytes.Clone(k)
				k, v = c.Next()
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}
