package ledger

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketSeen (node-local): transfer ID → when this node first applied its
// submission, by this node's clock (RFC 3339). A timelock never starts
// before a node saw the request, whatever time its home node claims.
var bucketSeen = []byte("seen")

// MarkSeen records when this node first saw transfer id; a later call
// changes nothing.
func (s *Store) MarkSeen(id string, at time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSeen)
		if err != nil {
			return err
		}
		if b.Get([]byte(id)) != nil {
			return nil
		}
		return b.Put([]byte(id), []byte(at.UTC().Format(time.RFC3339Nano)))
	})
}

// SeenAt is when this node first saw transfer id (ok false if never).
func (s *Store) SeenAt(id string) (t time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeen)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		var perr error
		t, perr = time.Parse(time.RFC3339Nano, string(v))
		if perr != nil {
			return fmt.Errorf("%w: seen time of %s", ErrCorrupt, id)
		}
		ok = true
		return nil
	})
	return t, ok, err
}
