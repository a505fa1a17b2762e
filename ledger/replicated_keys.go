package ledger

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// PolicyVerifier accepts a policy version into the node's governance
// history (admin quorum of the version in force, parent, no rollback,
// loosening delay), as of the command's time. It is called in log order
// and must be deterministic given the versions accepted before.
type PolicyVerifier interface {
	AcceptPolicy(v PolicyVersion) error
}

// bucketKeyShares (replicated): node ‖ 0x00 ‖ key ID → that node's
// KeyRecord, its share sealed by its own HSM. A node whose store was lost
// finds its sealed shares here again; no other node can open them.
var bucketKeyShares = []byte("key_shares")

// SetPolicyVerifier sets the governance check of replicated policy
// versions; without one they are refused.
func (s *Store) SetPolicyVerifier(v PolicyVerifier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies = v
}

// acceptPolicy records a policy version the governance accepts; a version
// already recorded changes nothing.
func (l *ledgerTx) acceptPolicy(cmd Command) (bool, error) {
	v := *cmd.Policy
	v.At = cmd.At
	b, err := l.tx().CreateBucketIfNotExists(bucketPolicies)
	if err != nil {
		return false, err
	}
	dup := false
	err = b.ForEach(func(_, val []byte) error {
		var have PolicyVersion
		if err := json.Unmarshal(val, &have); err != nil {
			return fmt.Errorf("%w: policy version: %v", ErrCorrupt, err)
		}
		dup = dup || have.Hash == v.Hash
		return nil
	})
	if err != nil || dup {
		return false, err
	}
	if l.repl.policies == nil {
		return false, fmt.Errorf("%w: no policy verifier", ErrConflict)
	}
	if err := l.repl.policies.AcceptPolicy(v); err != nil {
		return false, fmt.Errorf("%w: policy %s refused: %v", ErrConflict, v.Hash, err)
	}
	val, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return false, err
	}
	return true, b.Put(seqKey(seq), val)
}

func keyShareKey(node, id string) []byte { return append(append([]byte(node), 0), id...) }

// putKeyShare records the proposer's key record. A record replaces an
// older generation of the same key and public key; the same generation
// again changes nothing; anything else is a conflict.
func (l *ledgerTx) putKeyShare(cmd Command) (bool, error) {
	rec := *cmd.Key
	b, err := l.tx().CreateBucketIfNotExists(bucketKeyShares)
	if err != nil {
		return false, err
	}
	k := keyShareKey(cmd.Node, rec.ID)
	if v := b.Get(k); v != nil {
		old, err := decodeKey(v, rec.ID)
		if err != nil {
			return false, err
		}
		switch {
		case string(old.PublicKey) != string(rec.PublicKey):
			return false, fmt.Errorf("%w: key %s has another public key", ErrConflict, rec.ID)
		case rec.Generation == old.Generation && string(old.SealedShare) == string(rec.SealedShare):
			return false, nil
		case rec.Generation <= old.Generation:
			return false, fmt.Errorf("%w: key %s generation %d after %d", ErrConflict, rec.ID, rec.Generation, old.Generation)
		}
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	return true, b.Put(k, val)
}

// ReplicatedKeys returns node's key records as the replicated log holds
// them, sorted by key ID.
func (s *Store) ReplicatedKeys(node string) ([]KeyRecord, error) {
	var out []KeyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeyShares)
		if b == nil {
			return nil
		}
		prefix := keyShareKey(node, "")
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			rec, err := decodeKey(v, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list replicated keys of %s: %w", node, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RecoverKeys copies node's replicated key records into the node-local
// registry where they are missing or newer (a store that was lost and
// caught up from the log). It returns how many it wrote.
func (s *Store) RecoverKeys(node string) (int, error) {
	recs, err := s.ReplicatedKeys(node)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		for _, rec := range recs {
			if v := b.Get([]byte(rec.ID)); v != nil {
				old, err := decodeKey(v, rec.ID)
				if err != nil {
					return err
				}
				if old.Generation >= rec.Generation {
					continue
				}
			}
			val, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(rec.ID), val); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("recover keys of %s: %w", node, err)
	}
	return n, nil
}
