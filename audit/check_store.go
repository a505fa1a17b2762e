package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// StoredLog is what CheckStored found: the log's origin and the signed
// checkpoint its entries were rehashed against.
type StoredLog struct {
	Origin string
	Size   uint64
	Root   []byte
}

// checkCtxEvery is how many leaves CheckStored hashes between looks at
// its context.
const checkCtxEvery = 1 << 14

// CheckStored rehashes every audit entry of the file in tx, in order, and
// compares the root with the latest signed checkpoint (signed by the key
// the file's log names; New checks that key is the node's). It streams the
// leaves with one cursor and the stored leaf hashes (tree level 0) with
// another, and compares every complete subtree's hash with the stored one
// (proofs are read from them), so it reads each entry once, in one
// transaction.
//
// An entry that does not hash to its stored leaf hash, or entries that do
// not hash to the signed root, come as an *EntryError wrapping
// ErrEntryChanged; a missing or malformed entry, tree node or checkpoint as
// ErrCorrupt. A file without an audit log is ErrCorrupt too.
func CheckStored(ctx context.Context, tx *bolt.Tx) (StoredLog, error) {
	b, err := auditBuckets(tx)
	if err != nil {
		return StoredLog{}, err
	}
	origin := string(b.meta.Get(metaOrigin))
	vkey := string(b.meta.Get(metaKey))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return StoredLog{}, fmt.Errorf("%w: the log's verifier key %.80q: %w", ErrCorrupt, vkey, err)
	}
	cpSize, signed, err := b.latestCheckpoint()
	if err != nil {
		return StoredLog{}, err
	}
	cp, _, err := OpenCheckpoint(signed, note.VerifierList(v))
	if err != nil {
		return StoredLog{}, fmt.Errorf("%w: checkpoint of size %d: %w", ErrCorrupt, cpSize, err)
	}
	if cp.Origin != origin || cp.Size != cpSize {
		return StoredLog{}, fmt.Errorf("%w: the checkpoint stored as size %d is %s's of size %d", ErrCorrupt, cpSize, cp.Origin, cp.Size)
	}
	root, err := rehash(ctx, b, origin, cpSize)
	if err != nil {
		return StoredLog{}, err
	}
	if !bytes.Equal(root, cp.Hash) {
		return StoredLog{}, &EntryError{Node: origin, Index: 0, Last: max(cpSize, 1) - 1, Err: ErrEntryChanged,
			Detail: fmt.Sprintf("the entries hash to their stored leaf hashes but not to the signed checkpoint of size %d (a stored tree hash changed)", cpSize)}
	}
	return StoredLog{Origin: origin, Size: cpSize, Root: root}, nil
}

// rehash hashes leaves [0, size) in order into a compact range, checking
// each against its stored leaf hash and every complete subtree against its
// stored hash (the nodes proofs are read from), and returns the root.
func rehash(ctx context.Context, b buckets, origin string, size uint64) ([]byte, error) {
	rng := (&compact.RangeFactory{Hash: hasher.HashChildren}).NewEmptyRange(0)
	leaves, nodes := b.leaves.Cursor(), b.tree.Cursor()
	k, leaf := leaves.First()
	nk, nv := nodes.First() // level-0 keys (0x00 ‖ index) sort first
	var bad *compact.NodeID
	inner := func(id compact.NodeID, hash []byte) {
		if id.Level > 0 && bad == nil && !bytes.Equal(b.tree.Get(nodeKey(id)), hash) {
			bad = &id
		}
	}
	for i := uint64(0); i < size; i++ {
		if i%checkCtxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("check audit entries: %w", err)
			}
		}
		if k == nil {
			return nil, fmt.Errorf("%w: entry %d is missing: the signed checkpoint covers %d", ErrCorrupt, i, size)
		}
		if len(k) != 8 || binary.BigEndian.Uint64(k) != i {
			return nil, fmt.Errorf("%w: entry %d is missing: the next stored key is %x", ErrCorrupt, i, k)
		}
		if len(nk) != 9 || nk[0] != 0 || binary.BigEndian.Uint64(nk[1:]) != i || len(nv) != 32 {
			return nil, fmt.Errorf("%w: the stored hash of entry %d is missing or malformed", ErrCorrupt, i)
		}
		h := hasher.HashLeaf(leaf)
		if !bytes.Equal(h, nv) {
			return nil, &EntryError{Node: origin, Index: i, Last: i, Err: ErrEntryChanged,
				Detail: fmt.Sprintf("it does not hash to its stored hash, under the signed checkpoint of size %d", size)}
		}
		if err := rng.Append(h, inner); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if bad != nil {
			first := bad.Index << bad.Level
			return nil, &EntryError{Node: origin, Index: first, Last: first + 1<<bad.Level - 1, Err: ErrEntryChanged,
				Detail: fmt.Sprintf("the stored tree hash (level %d, index %d) over them is not theirs", bad.Level, bad.Index)}
		}
		k, leaf = leaves.Next()
		nk, nv = nodes.Next()
	}
	if k != nil {
		return nil, fmt.Errorf("%w: entries beyond the signed checkpoint of size %d (key %x)", ErrCorrupt, size, k)
	}
	return rootOf(rng)
}

// Verify rehashes every committed entry and compares the root with the
// latest signed checkpoint (CheckStored), and checks the checkpoint is
// signed by this log's key. It reads in one transaction; appends go on.
func (l *Log) Verify(ctx context.Context) (StoredLog, error) {
	var out StoredLog
	err := l.db.View(func(tx *bolt.Tx) error {
		got, err := CheckStored(ctx, tx)
		if err != nil {
			return err
		}
		if key := string(tx.Bucket(bucketMeta).Get(metaKey)); key != l.signer.VerifierKey() {
			return fmt.Errorf("%w: the file's log is signed by key %q, the HSM holds %q", ErrIdentity, key, l.signer.VerifierKey())
		}
		out = got
		return nil
	})
	if err != nil {
		return StoredLog{}, fmt.Errorf("verify audit log %s: %w", l.origin, err)
	}
	return out, nil
}
