package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
)

// Restored is what RestoreTail put back.
type Restored struct {
	From, To    uint64 // the entries [From, To) were appended
	Checkpoints int    // signed checkpoints put back with them
}

// RestoreTail puts back, into the audit log of db (a restored copy of a
// stopped node's store), the entries a bundle of the same log holds past
// the copy's latest signed checkpoint, up to the bundle's largest
// checkpoint of this log whose entries it holds whole, with the bundle's checkpoints (and their
// cosignatures) in that range. Nothing is signed: every checkpoint put
// back is one the node signed before (checked with self, this node's key
// only), and the entries are put back only if they hash, on top of the
// copy's own tree, to each of those checkpoints' roots. The log is then
// the one the node had, byte for byte, not a second history.
//
// The source of the bundle does not matter: an auditor's export, or the
// damaged store's own log exported, are equally checked. A bundle of
// another log, or whose entries do not hash to its checkpoints, changes
// nothing and is an error (ErrInconsistent for entries that do not
// match). A bundle that holds nothing past the copy returns To == From.
func RestoreTail(ctx context.Context, db *bolt.DB, bundle *Bundle, self note.Verifiers) (Restored, error) {
	var origin string
	var size uint64
	var rng *compact.Range
	rf := &compact.RangeFactory{Hash: hasher.HashChildren}
	err := db.View(func(tx *bolt.Tx) error {
		got, err := CheckStored(ctx, tx)
		if err != nil {
			return err
		}
		b, _ := auditBuckets(tx)
		hashes, err := b.nodeHashes(compact.RangeNodes(0, got.Size, nil))
		if err != nil {
			return err
		}
		if rng, err = rf.NewRange(0, got.Size, hashes); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		origin, size = got.Origin, got.Size
		return nil
	})
	if err != nil {
		return Restored{}, fmt.Errorf("restore audit tail: the restored copy: %w", err)
	}
	out := Restored{From: size, To: size}
	if bundle.Header.Origin != origin {
		return out, fmt.Errorf("restore audit tail: %s is the log of %q, not of %q", bundle.Name, bundle.Header.Origin, origin)
	}
	// this node's checkpoints past the copy, by size; two roots for one
	// size is a fork, which no restore puts back
	cps := map[uint64][]byte{}
	roots := map[uint64][]byte{}
	for _, signed := range bundle.Checkpoints {
		cp, _, err := OpenCheckpoint(signed, self)
		if err != nil {
			return out, fmt.Errorf("restore audit tail: %s: a checkpoint: %w", bundle.Name, err)
		}
		if cp.Origin != origin {
			return out, fmt.Errorf("restore audit tail: %s: a checkpoint of %q", bundle.Name, cp.Origin)
		}
		if r, ok := roots[cp.Size]; ok && !bytes.Equal(r, cp.Hash) {
			return out, fmt.Errorf("restore audit tail: %s: %w: two roots for size %d", bundle.Name, ErrFork, cp.Size)
		}
		if cp.Size > size {
			cps[cp.Size], roots[cp.Size] = signed, cp.Hash
		}
	}
	if len(cps) == 0 {
		return out, nil
	}
	sizes := make([]uint64, 0, len(cps))
	for s := range cps {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	last := sizes[len(sizes)-1]

	// read the entries [size, last) and hash them onto the copy's tree,
	// checking each checkpoint's root as its size is reached
	type batch struct {
		first  uint64
		leaves [][]byte
		nodes  []treeNode
		size   uint64
		signed []byte
	}
	var batches []batch
	cur := batch{first: size}
	visit := func(id compact.NodeID, hash []byte) { cur.nodes = append(cur.nodes, treeNode{id, bytes.Clone(hash)}) }
	next := 0
	for i := uint64(0); i < last; i++ {
		if i%checkCtxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return out, fmt.Errorf("restore audit tail: %w", err)
			}
		}
		leaf, err := bundle.Next()
		if errors.Is(err, io.EOF) {
			break // a cut bundle: put back what its checkpoints cover
		}
		if err != nil {
			return out, fmt.Errorf("restore audit tail: %w", err)
		}
		if i < size {
			continue // the copy holds these; the roots below cover them
		}
		cur.leaves = append(cur.leaves, bytes.Clone(leaf))
		if err := rng.Append(hasher.HashLeaf(leaf), visit); err != nil {
			return out, fmt.Errorf("restore audit tail: %w: %w", ErrCorrupt, err)
		}
		if rng.End() != sizes[next] {
			continue
		}
		root, err := rootOf(rng)
		if err != nil {
			return out, fmt.Errorf("restore audit tail: %w: %w", ErrCorrupt, err)
		}
		if !bytes.Equal(root, roots[sizes[next]]) {
			return out, fmt.Errorf("restore audit tail: %s: %w: its entries up to %d do not hash, on top of the restored copy's %d, to this node's checkpoint of that size",
				bundle.Name, ErrInconsistent, sizes[next], size)
		}
		cur.size, cur.signed = sizes[next], cps[sizes[next]]
		batches = append(batches, cur)
		cur = batch{first: rng.End()}
		next++
	}
	if len(batches) == 0 {
		return out, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		for _, bt := range batches {
			if err := b.putBatch(bt.first, bt.leaves, bt.nodes, bt.size, bt.signed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("restore audit tail: write: %w", err)
	}
	if len(batches) > 0 {
		out.To, out.Checkpoints = batches[len(batches)-1].size, len(batches)
	}
	return out, nil
}

// RestoreLog is RestoreTail into a store that holds no audit log yet (a
// node whose store was lost): the log's metadata is taken from the
// bundle, whose key must be one of self, and its empty checkpoint must be
// the bundle's own, signed by that key; then every entry is put back as
// RestoreTail does. A store that already holds a log is RestoreTail.
func RestoreLog(ctx context.Context, db *bolt.DB, bundle *Bundle, self note.Verifiers) (Restored, error) {
	has := false
	_ = db.View(func(tx *bolt.Tx) error { has = tx.Bucket(bucketMeta) != nil; return nil })
	if has {
		return RestoreTail(ctx, db, bundle, self)
	}
	h := bundle.Header
	v, err := note.NewVerifier(h.Key)
	if err != nil {
		return Restored{}, fmt.Errorf("restore audit log: %s: its key: %w", bundle.Name, err)
	}
	if mine, err := self.Verifier(v.Name(), v.KeyHash()); err != nil || mine.Name() != h.Origin {
		return Restored{}, fmt.Errorf("restore audit log: %s is the log of %q under another key than this node's", bundle.Name, h.Origin)
	}
	var empty []byte
	for _, signed := range bundle.Checkpoints {
		cp, _, err := OpenCheckpoint(signed, self)
		if err == nil && cp.Origin == h.Origin && cp.Size == 0 && bytes.Equal(cp.Hash, hasher.EmptyRoot()) {
			empty = signed
			break
		}
	}
	if empty == nil {
		return Restored{}, fmt.Errorf("restore audit log: %s holds no empty checkpoint signed by this node", bundle.Name)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		for k, val := range map[string]string{string(metaFormat): storeFormat, string(metaOrigin): h.Origin, string(metaKey): h.Key} {
			if err := b.meta.Put([]byte(k), []byte(val)); err != nil {
				return err
			}
		}
		return b.checkpoints.Put(u64(0), empty)
	})
	if err != nil {
		return Restored{}, fmt.Errorf("restore audit log: %w: %w", ErrStore, err)
	}
	return RestoreTail(ctx, db, bundle, self)
}
