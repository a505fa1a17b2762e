package ledger

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// AddPreParams appends one sealed pre-parameter set to the pool.
func (s *Store) AddPreParams(sealed []byte) error {
	if len(sealed) == 0 {
		return fmt.Errorf("add pre-params: %w: empty blob", ErrInvalid)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPreParams)
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("add pre-params: %w", err)
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		return b.Put(k[:], sealed)
	})
}

// TakePreParams removes and returns the oldest pooled set.
func (s *Store) TakePreParams() ([]byte, error) {
	var out []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPreParams)
		k, v := b.Cursor().First()
		if k == nil {
			return ErrPoolEmpty
		}
		out = append([]byte(nil), v...)
		return b.Delete(k)
	})
	if err != nil {
		return nil, fmt.Errorf("take pre-params: %w", err)
	}
	return out, nil
}

// PreParamsCount is the pool's size.
func (s *Store) PreParamsCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketPreParams).Stats().KeyN
		return nil
	})
	return n, err
}
