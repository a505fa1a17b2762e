package ledger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFresh means a restore found keys or pre-parameters already in the
// store: sealed material is restored only into a store that holds none.
var ErrNotFresh = errors.New("ledger: store already holds keys or pre-parameters")

// Sealed is every secret a node's store holds, all of it sealed by the
// node's HSM: its key records (each with its sealed share) and its pool of
// sealed pre-parameter sets, oldest first. It is what a backup copies.
type Sealed struct {
	Keys      []KeyRecord
	PreParams [][]byte
}

// Sealed reads the key records and the pre-parameter pool in one read
// transaction, so the two are consistent. Nothing is unsealed, nor taken
// from the pool.
func (s *Store) Sealed() (Sealed, error) {
	var out Sealed
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
			rec, err := decodeKey(v, string(k))
			if err != nil {
				return err
			}
			out.Keys = append(out.Keys, rec)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketPreParams).ForEach(func(_, v []byte) error {
			out.PreParams = append(out.PreParams, append([]byte(nil), v...))
			return nil
		})
	})
	if err != nil {
		return Sealed{}, fmt.Errorf("read sealed state: %w", err)
	}
	return out, nil
}

// RestoreSealed writes key records and pre-parameter sets into a store
// that holds neither, in one transaction: every record is validated first,
// and on any error (ErrNotFresh, ErrInvalid, ErrKeyExists for a repeated
// key ID) nothing is written.
func (s *Store) RestoreSealed(in Sealed) error {
	vals := make([][]byte, len(in.Keys))
	for i, rec := range in.Keys {
		if err := rec.Validate(); err != nil {
			return fmt.Errorf("restore sealed state: %w", err)
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("restore sealed state: key %s: %w", rec.ID, err)
		}
		vals[i] = v
	}
	for i, p := range in.PreParams {
		if len(p) == 0 {
			return fmt.Errorf("restore sealed state: %w: pre-parameter set %d is empty", ErrInvalid, i)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		keys, pool := tx.Bucket(bucketKeys), tx.Bucket(bucketPreParams)
		if keys.Stats().KeyN > 0 || pool.Stats().KeyN > 0 {
			return fmt.Errorf("%w (%d keys, %d pre-parameter sets)", ErrNotFresh, keys.Stats().KeyN, pool.Stats().KeyN)
		}
		for i, rec := range in.Keys {
			if keys.Get([]byte(rec.ID)) != nil {
				return fmt.Errorf("key %s: %w", rec.ID, ErrKeyExists)
			}
			if err := keys.Put([]byte(rec.ID), vals[i]); err != nil {
				return err
			}
		}
		for _, p := range in.PreParams {
			seq, err := pool.NextSequence()
			if err != nil {
				return err
			}
			if err := pool.Put(binary.BigEndian.AppendUint64(nil, seq), p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore sealed state: %w", err)
	}
	return nil
}
