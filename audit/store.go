package audit

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
)

// Buckets of the audit log in the node's bbolt file (see doc.go).
var (
	bucketMeta        = []byte("audit/meta")
	bucketLeaves      = []byte("audit/leaves")
	bucketTree        = []byte("audit/tree")
	bucketCheckpoints = []byte("audit/checkpoints")
	bucketCosigs      = []byte("audit/cosigs")

	allBuckets = [][]byte{bucketMeta, bucketLeaves, bucketTree, bucketCheckpoints, bucketCosigs}

	metaFormat = []byte("format")
	metaOrigin = []byte("origin")
	metaKey    = []byte("key")
)

// storeFormat is the version of the bucket layout.
const storeFormat = "1"

// appendOnlyFill packs the pages of buckets whose keys only grow.
const appendOnlyFill = 1.0

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// nodeKey is a tree node's key: level (1 byte) then index (8 bytes).
func nodeKey(id compact.NodeID) []byte {
	return binary.BigEndian.AppendUint64([]byte{byte(id.Level)}, id.Index)
}

// cosigKey keys another node's cosigned checkpoint: origin, 0x00, size.
func cosigKey(origin string, size uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(origin), 0), size)
}

// buckets are the audit buckets of one transaction.
type buckets struct {
	meta, leaves, tree, checkpoints, cosigs *bolt.Bucket
}

// auditBuckets returns the audit buckets of a transaction, or ErrCorrupt
// if the file has none (a file without an audit log, read-only).
func auditBuckets(tx *bolt.Tx) (buckets, error) {
	b := buckets{
		meta: tx.Bucket(bucketMeta), leaves: tx.Bucket(bucketLeaves), tree: tx.Bucket(bucketTree),
		checkpoints: tx.Bucket(bucketCheckpoints), cosigs: tx.Bucket(bucketCosigs),
	}
	if b.meta == nil || b.leaves == nil || b.tree == nil || b.checkpoints == nil || b.cosigs == nil {
		return b, fmt.Errorf("%w: the file has no audit log buckets", ErrCorrupt)
	}
	if tx.Writable() {
		b.leaves.FillPercent = appendOnlyFill
		b.tree.FillPercent = appendOnlyFill
		b.checkpoints.FillPercent = appendOnlyFill
	}
	return b, nil
}

// leafCount is the number of leaves, from the last leaf key.
func (b buckets) leafCount() (uint64, error) {
	k, _ := b.leaves.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	if len(k) != 8 {
		return 0, fmt.Errorf("%w: leaf key %x is not 8 bytes", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k) + 1, nil
}

// latestCheckpoint is the stored checkpoint of the greatest size.
func (b buckets) latestCheckpoint() (uint64, []byte, error) {
	k, v := b.checkpoints.Cursor().Last()
	if k == nil {
		return 0, nil, fmt.Errorf("%w: no checkpoint stored", ErrCorrupt)
	}
	if len(k) != 8 {
		return 0, nil, fmt.Errorf("%w: checkpoint key %x is not 8 bytes", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k), bytes.Clone(v), nil
}

// nodeHashes reads the hashes of tree nodes.
func (b buckets) nodeHashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		v := b.tree.Get(nodeKey(id))
		if len(v) != 32 {
			return nil, fmt.Errorf("%w: tree node (level %d, index %d) is missing or not 32 bytes", ErrCorrupt, id.Level, id.Index)
		}
		out[i] = bytes.Clone(v)
	}
	return out, nil
}

// treeNode is a node hash to store.
type treeNode struct {
	id   compact.NodeID
	hash []byte
}

// putBatch writes leaves first.. with their tree nodes and the signed
// checkpoint of the new size, refusing to overwrite anything.
func (b buckets) putBatch(first uint64, leaves [][]byte, nodes []treeNode, size uint64, signed []byte) error {
	if n, err := b.leafCount(); err != nil {
		return err
	} else if n != first {
		return fmt.Errorf("%w: the file holds %d leaves, the log expected %d", ErrCorrupt, n, first)
	}
	for i, leaf := range leaves {
		if err := b.leaves.Put(u64(first+uint64(i)), leaf); err != nil {
			return err
		}
	}
	for _, n := range nodes {
		if err := b.tree.Put(nodeKey(n.id), n.hash); err != nil {
			return err
		}
	}
	if b.checkpoints.Get(u64(size)) != nil {
		return fmt.Errorf("%w: a checkpoint of size %d is already stored", ErrCorrupt, size)
	}
	return b.checkpoints.Put(u64(size), signed)
}
