package audit

import (
	"context"
	"errors"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	bolt "go.etcd.io/bbolt"
)

// TestCheckStoredFindsDamage damages one audit value in the file the way
// a misbehaving disk would and checks that CheckStored (and Log.Verify)
// names it, where New, which does not rehash leaves, still opens the log.
func TestCheckStoredFindsDamage(t *testing.T) {
	flip := func(bucket []byte, key []byte, at int) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			v := append([]byte(nil), b.Get(key)...)
			v[at%len(v)] ^= 0x04
			return b.Put(key, v)
		}
	}
	tests := []struct {
		name   string
		damage func(*bolt.Tx) error
		want   error
		index  uint64 // the entry named, with ErrEntryChanged
	}{
		{name: "ok/untouched", damage: func(*bolt.Tx) error { return nil }},
		{name: "fail/leaf-byte-flipped", damage: flip(bucketLeaves, u64(7), 40), want: ErrEntryChanged, index: 7},
		{name: "fail/last-leaf-byte-flipped", damage: flip(bucketLeaves, u64(11), 3), want: ErrEntryChanged, index: 11},
		{name: "fail/leaf-hash-flipped", damage: flip(bucketTree, nodeKey(compact.NewNodeID(0, 4)), 0), want: ErrEntryChanged, index: 4},
		{name: "fail/inner-hash-flipped", damage: flip(bucketTree, nodeKey(compact.NewNodeID(1, 1)), 9), want: ErrEntryChanged},
		{name: "fail/leaf-missing", damage: func(tx *bolt.Tx) error { return tx.Bucket(bucketLeaves).Delete(u64(3)) }, want: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, "node1", memKS(1))
			n.append(t, plainRecords()...)
			if err := n.store.DB().Update(tt.damage); err != nil {
				t.Fatal(err)
			}
			var got StoredLog
			err := n.store.DB().View(func(tx *bolt.Tx) (err error) {
				got, err = CheckStored(context.Background(), tx)
				return err
			})
			_, verr := n.log.Verify(context.Background())
			if tt.want == nil {
				if err != nil || verr != nil || got.Size != 12 || got.Origin != n.origin() {
					t.Fatalf("CheckStored = %+v, %v; Verify: %v", got, err, verr)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(verr, tt.want) {
				t.Fatalf("CheckStored: %v; Verify: %v; want %v", err, verr, tt.want)
			}
			var ee *EntryError
			if tt.want == ErrEntryChanged && tt.index > 0 && (!errors.As(err, &ee) || ee.Index != tt.index || ee.Last != tt.index) {
				t.Fatalf("CheckStored: %v; want entry %d named", err, tt.index)
			}
		})
	}
}

// TestCheckStoredEmptyLog checks a new log (the signed empty checkpoint).
func TestCheckStoredEmptyLog(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	got, err := n.log.Verify(context.Background())
	if err != nil || got.Size != 0 {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
}
