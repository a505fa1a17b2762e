package audit

import (
	"bytes"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// treeState is the committed tree: its compact range [0, size) — the
// O(log n) hashes that let an append compute the next root without
// reading the tree — and its root.
type treeState struct {
	rng  *compact.Range
	root []byte
}

func (s treeState) size() uint64 {
	if s.rng == nil {
		return 0
	}
	return s.rng.End()
}

// clone copies the range, for a batch to extend without touching the
// committed state.
func (s treeState) clone(rf *compact.RangeFactory) (*compact.Range, error) {
	hashes := make([][]byte, len(s.rng.Hashes()))
	copy(hashes, s.rng.Hashes())
	return rf.NewRange(0, s.rng.End(), hashes)
}

func rootOf(rng *compact.Range) ([]byte, error) {
	if rng.End() == 0 {
		return hasher.EmptyRoot(), nil
	}
	return rng.GetRootHash(nil)
}

// init creates the buckets and, on first use, the metadata and the signed
// empty checkpoint (created); later it checks the file's log is this
// node's.
func (l *Log) init() (created bool, err error) {
	err = l.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("%w: create bucket %s: %w", ErrStore, name, err)
			}
		}
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		format := b.meta.Get(metaFormat)
		if format == nil {
			created = true
			return l.create(b)
		}
		if string(format) != storeFormat {
			return fmt.Errorf("%w: store format %q, this build reads %q", ErrVersion, format, storeFormat)
		}
		if got := string(b.meta.Get(metaOrigin)); got != l.origin {
			return fmt.Errorf("%w: the file's log is %q, not %q", ErrIdentity, got, l.origin)
		}
		if got := string(b.meta.Get(metaKey)); got != l.signer.VerifierKey() {
			return fmt.Errorf("%w: the file's log is signed by key %q, the HSM holds %q", ErrIdentity, got, l.signer.VerifierKey())
		}
		return nil
	})
	return created, err
}

func (l *Log) create(b buckets) error {
	if k, _ := b.leaves.Cursor().First(); k != nil {
		return fmt.Errorf("%w: the file holds audit entries but no log metadata", ErrCorrupt)
	}
	if k, _ := b.checkpoints.Cursor().First(); k != nil {
		return fmt.Errorf("%w: the file holds checkpoints but no log metadata", ErrCorrupt)
	}
	signed, err := note.Sign(&note.Note{Text: string(Checkpoint{Origin: l.origin, Hash: hasher.EmptyRoot()}.Text())}, l.signer)
	if err != nil {
		return fmt.Errorf("sign the empty checkpoint: %w", err)
	}
	for k, v := range map[string]string{string(metaFormat): storeFormat, string(metaOrigin): l.origin, string(metaKey): l.signer.VerifierKey()} {
		if err := b.meta.Put([]byte(k), []byte(v)); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
	}
	if err := b.checkpoints.Put(u64(0), signed); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	l.log.Info("audit log created", "key", l.signer.VerifierKey())
	return nil
}

// load rebuilds the committed state from the file and checks it against
// the latest signed checkpoint: same size, same root, signed by this node.
func (l *Log) load() (treeState, error) {
	var st treeState
	err := l.db.View(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		size, err := b.leafCount()
		if err != nil {
			return err
		}
		hashes, err := b.nodeHashes(compact.RangeNodes(0, size, nil))
		if err != nil {
			return err
		}
		rng, err := l.rf.NewRange(0, size, hashes)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		root, err := rootOf(rng)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		cpSize, signed, err := b.latestCheckpoint()
		if err != nil {
			return err
		}
		if cpSize != size {
			return fmt.Errorf("%w: the file holds %d entries but its latest checkpoint covers %d", ErrCorrupt, size, cpSize)
		}
		cp, _, err := OpenCheckpoint(signed, l.self)
		if err != nil {
			return fmt.Errorf("%w: latest checkpoint: %w", ErrCorrupt, err)
		}
		if cp.Origin != l.origin || cp.Size != size || !bytes.Equal(cp.Hash, root) {
			return fmt.Errorf("%w: the latest checkpoint (size %d) does not match the stored tree", ErrCorrupt, cp.Size)
		}
		st = treeState{rng: rng, root: root}
		return nil
	})
	return st, err
}

// reload resynchronizes the memory state with the file after a failed
// commit (a commit can fail after it reached the disk). If the file cannot
// be read back, the log refuses every append until it is reopened.
func (l *Log) reload() {
	st, err := l.load()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.broken = fmt.Errorf("%w: reload after a failed commit: %w", ErrCorrupt, err)
		l.log.Error("audit log unusable until reopened", "err", err)
		return
	}
	if st.size() != l.st.size() {
		l.log.Warn("a failed commit reached the file; state reloaded", "size", st.size())
	}
	l.st = st
}
