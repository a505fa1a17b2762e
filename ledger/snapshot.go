package ledger

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Snapshot format (replication snapshots, signer/replica):
//
//	magic "coffer-ledger-snapshot/v1\n"
//	u64 applied log index
//	for each replicated bucket: u32 name length, name, u64 bucket sequence,
//	  then pairs: u32 key length, key, u32 value length, value;
//	  a key length of endOfBucket closes the bucket
//	u32 endOfBucket (no more buckets)
//	32-byte SHA-256 of everything before it
//
// All integers are big-endian. Restore checks every length against a bound
// before reading, accepts only the replicated buckets, and commits nothing
// unless the trailing hash matches.
const (
	snapshotMagic = "coffer-ledger-snapshot/v1\n"
	endOfBucket   = 0xFFFFFFFF
	maxSnapKey    = 1 << 10
	maxSnapValue  = 16 << 20
)

// Snapshot is a consistent read of the replicated buckets at one applied
// index. Write it once, then Close it (a long-open snapshot holds a bbolt
// read transaction).
type Snapshot struct {
	tx    *bolt.Tx
	index uint64
}

// Snapshot starts a snapshot of the replicated state as applied now.
func (s *Store) Snapshot() (*Snapshot, error) {
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	idx, err := appliedIndex(tx)
	if err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	return &Snapshot{tx: tx, index: idx}, nil
}

// Index is the last log index the snapshot includes.
func (sn *Snapshot) Index() uint64 { return sn.index }

// Close ends the snapshot's read transaction.
func (sn *Snapshot) Close() error { return sn.tx.Rollback() }

// WriteTo writes the snapshot.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	bw := bufio.NewWriterSize(cw, 1<<16)
	u32 := func(v uint32) { _, _ = bw.Write(binary.BigEndian.AppendUint32(nil, v)) }
	_, _ = bw.WriteString(snapshotMagic)
	_, _ = bw.Write(binary.BigEndian.AppendUint64(nil, sn.index))
	for _, name := range replicatedBuckets {
		b := sn.tx.Bucket(name)
		u32(uint32(len(name)))
		_, _ = bw.Write(name)
		var seq uint64
		if b != nil {
			seq = b.Sequence()
		}
		_, _ = bw.Write(binary.BigEndian.AppendUint64(nil, seq))
		if b != nil {
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				u32(uint32(len(k)))
				_, _ = bw.Write(k)
				u32(uint32(len(v)))
				_, _ = bw.Write(v)
			}
		}
		u32(endOfBucket)
	}
	u32(endOfBucket)
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	return cw.n + sha256.Size, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore replaces the replicated buckets with a snapshot's content and
// sets the applied index to the snapshot's, in one transaction: a
// malformed, truncated or altered snapshot changes nothing. Node-local
// buckets are kept.
func (s *Store) Restore(r io.Reader) (uint64, error) {
	var index uint64
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		index, err = restoreTx(tx, r)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("restore snapshot: %w", err)
	}
	if s.watcher != nil {
		if err := s.resetWatcher(s.watcher); err != nil {
			return 0, fmt.Errorf("restore snapshot: %w", err)
		}
	}
	s.log.Info("ledger restored from snapshot", "applied_index", index)
	return index, nil
}

func restoreTx(tx *bolt.Tx, r io.Reader) (uint64, error) {
	h := sha256.New()
	sr := &snapReader{r: bufio.NewReaderSize(r, 1<<16), h: h}
	magic := sr.bytes(len(snapshotMagic))
	if sr.err == nil && string(magic) != snapshotMagic {
		return 0, fmt.Errorf("%w: not a ledger snapshot", ErrCorrupt)
	}
	index := sr.u64()
	for _, name := range replicatedBuckets {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return 0, err
			}
		}
	}
	var seen [][]byte
	for sr.err == nil {
		n := sr.u32()
		if n == endOfBucket || sr.err != nil {
			break
		}
		if n > 64 {
			return 0, fmt.Errorf("%w: bucket name of %d bytes", ErrCorrupt, n)
		}
		name := sr.bytes(int(n))
		if sr.err != nil {
			break
		}
		if !slices.ContainsFunc(replicatedBuckets, func(b []byte) bool { return bytes.Equal(b, name) }) ||
			slices.ContainsFunc(seen, func(b []byte) bool { return bytes.Equal(b, name) }) {
			return 0, fmt.Errorf("%w: snapshot bucket %q is not replicated or repeated", ErrCorrupt, name)
		}
		seen = append(seen, name)
		b, err := tx.CreateBucket(name)
		if err != nil {
			return 0, err
		}
		if err := b.SetSequence(sr.u64()); err != nil {
			return 0, err
		}
		for sr.err == nil {
			kl := sr.u32()
			if kl == endOfBucket || sr.err != nil {
				break
			}
			if kl == 0 || kl > maxSnapKey {
				return 0, fmt.Errorf("%w: key of %d bytes in %s", ErrCorrupt, kl, name)
			}
			k := sr.bytes(int(kl))
			vl := sr.u32()
			if vl > maxSnapValue {
				return 0, fmt.Errorf("%w: value of %d bytes in %s", ErrCorrupt, vl, name)
			}
			v := sr.bytes(int(vl))
			if sr.err != nil {
				break
			}
			if err := b.Put(k, v); err != nil {
				return 0, err
			}
		}
	}
	if sr.err != nil {
		return 0, fmt.Errorf("%w: truncated snapshot: %v", ErrCorrupt, sr.err)
	}
	sum := h.Sum(nil)
	trailer := make([]byte, sha256.Size)
	if _, err := io.ReadFull(sr.r, trailer); err != nil || !bytes.Equal(sum, trailer) {
		return 0, fmt.Errorf("%w: snapshot hash does not match its content", ErrCorrupt)
	}
	for _, name := range replicatedBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return 0, err
		}
	}
	if err := rebuildOpen(tx); err != nil {
		return 0, err
	}
	return index, setApplied(tx, index)
}

// snapReader reads big-endian fields through the hash, keeping the first
// error.
type snapReader struct {
	r   *bufio.Reader
	h   hash.Hash
	err error
}

func (s *snapReader) bytes(n int) []byte {
	if s.err != nil {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = errors.Join(io.ErrUnexpectedEOF, err)
		return nil
	}
	s.h.Write(b)
	return b
}

func (s *snapReader) u32() uint32 {
	b := s.bytes(4)
	if b == nil {
		return endOfBucket
	}
	return binary.BigEndian.Uint32(b)
}

func (s *snapReader) u64() uint64 {
	b := s.bytes(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
