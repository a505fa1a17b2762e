package ledger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketPolicies = []byte("policies")

// PolicyVersion is an accepted policy version after the genesis, as
// submitted: the document, the admins' signatures and when this node
// accepted it. Replaying them in order rebuilds the governance history.
type PolicyVersion struct {
	Document   []byte    `json:"document"`
	Signatures [][]byte  `json:"signatures"`
	At         time.Time `json:"at"`
	Hash       string    `json:"hash"`
}

// AppendPolicy records an accepted version (the caller checked it).
func (s *Store) AppendPolicy(v PolicyVersion) error {
	if len(v.Document) == 0 || v.Hash == "" || v.At.IsZero() {
		return fmt.Errorf("append policy: %w: empty document, hash or time", ErrInvalid)
	}
	val, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("append policy: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPolicies)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), val)
	})
}

// Policies returns the accepted versions in order.
func (s *Store) Policies() ([]PolicyVersion, error) {
	var out []PolicyVersion
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicies)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var p PolicyVersion
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("%w: policy version: %v", ErrCorrupt, err)
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	return out, nil
}
