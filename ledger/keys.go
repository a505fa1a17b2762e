package ledger

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Member is one party of a key's committee.
type Member struct {
	Node     string `json:"node"`
	PartyKey []byte `json:"party_key"` // tss-lib party key (big-endian)
}

// KeyRecord is one threshold key as this node knows it.
type KeyRecord struct {
	ID         string    `json:"id"`
	PublicKey  []byte    `json:"public_key"` // SEC1 compressed secp256k1
	ChainCode  []byte    `json:"chain_code"`
	Threshold  int       `json:"threshold"` // t: t+1 parties sign
	Committee  []Member  `json:"committee"`
	Generation uint32    `json:"generation"`
	CreatedAt  time.Time `json:"created_at"`
	// SealedShare is this node's share sealed by its HSM, or nil when the
	// node is not (or no longer) in the committee.
	SealedShare []byte `json:"sealed_share,omitempty"`
}

// Nodes lists the committee's node IDs in committee order.
func (r KeyRecord) Nodes() []string {
	out := make([]string, 0, len(r.Committee))
	for _, m := range r.Committee {
		out = append(out, m.Node)
	}
	return out
}

// Validate checks the record's shape before it is written.
func (r KeyRecord) Validate() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: empty key ID", ErrInvalid)
	case len(r.PublicKey) != 33:
		return fmt.Errorf("%w: key %s: public key must be 33 bytes", ErrInvalid, r.ID)
	case r.Threshold < 1 || r.Threshold+1 > len(r.Committee):
		return fmt.Errorf("%w: key %s: threshold %d with %d parties", ErrInvalid, r.ID, r.Threshold, len(r.Committee))
	}
	return nil
}

// Member returns the committee member for node, if any.
func (r KeyRecord) Member(node string) (Member, bool) {
	for _, m := range r.Committee {
		if m.Node == node {
			return m, true
		}
	}
	return Member{}, false
}

// PutKey registers a new key. It refuses an ID that exists.
func (s *Store) PutKey(rec KeyRecord) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("put key: %w", err)
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("put key %s: %w", rec.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		if b.Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("put key %s: %w", rec.ID, ErrKeyExists)
		}
		return b.Put([]byte(rec.ID), val)
	})
}

// ReplaceKey stores the next generation of an existing key (after a
// reshare). The public key must not change and the generation must be the
// stored one plus one; the previous sealed share is overwritten.
func (s *Store) ReplaceKey(rec KeyRecord) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("replace key: %w", err)
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("replace key %s: %w", rec.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		old, err := decodeKey(b.Get([]byte(rec.ID)), rec.ID)
		if err != nil {
			return fmt.Errorf("replace key: %w", err)
		}
		if rec.Generation != old.Generation+1 || string(rec.PublicKey) != string(old.PublicKey) {
			return fmt.Errorf("replace key %s generation %d by %d: %w", rec.ID, old.Generation, rec.Generation, ErrGeneration)
		}
		return b.Put([]byte(rec.ID), val)
	})
}

// Key returns the record of id.
func (s *Store) Key(id string) (KeyRecord, error) {
	var rec KeyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = decodeKey(tx.Bucket(bucketKeys).Get([]byte(id)), id)
		return err
	})
	if err != nil {
		return KeyRecord{}, fmt.Errorf("get key: %w", err)
	}
	return rec, nil
}

// Keys lists every key, sorted by ID.
func (s *Store) Keys() ([]KeyRecord, error) {
	var out []KeyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
			rec, err := decodeKey(v, string(k))
			if err != nil {
				return err
			}
			out = append(out, rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func decodeKey(v []byte, id string) (KeyRecord, error) {
	if v == nil {
		return KeyRecord{}, fmt.Errorf("key %s: %w", id, ErrKeyNotFound)
	}
	var rec KeyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return KeyRecord{}, fmt.Errorf("key %s: %w", id, &CorruptError{Bucket: string(bucketKeys), Key: id, Err: err})
	}
	return rec, nil
}
