package ledger

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketWhitelistSeen (node-local): whitelist ID ‖ 0 ‖ address → when this
// node first saw the entry in a policy version, by its own clock, or the
// version's effective time if later (RFC 3339). An entry is active no
// earlier than this plus the whitelist's active_after, whatever added_at
// the document claims: back-dating an entry does not shorten its delay.
var bucketWhitelistSeen = []byte("whitelist_seen")

// WhitelistEntryKey names one whitelist entry; Address is as the policy
// compares it (lower case for eth).
type WhitelistEntryKey struct{ Whitelist, Address string }

func (k WhitelistEntryKey) bytes() []byte {
	return append(append([]byte(k.Whitelist), 0), k.Address...)
}

// MarkWhitelistSeen records at for every entry of keys this node has not
// seen before; entries seen before keep their time. It returns how many
// it recorded.
func (s *Store) MarkWhitelistSeen(keys []WhitelistEntryKey, at time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b, err := tx.CreateBucketIfNotExists(bucketWhitelistSeen)
		if err != nil {
			return err
		}
		v := []byte(at.UTC().Format(time.RFC3339Nano))
		for _, k := range keys {
			if k.Whitelist == "" || k.Address == "" {
				return fmt.Errorf("%w: whitelist entry without a whitelist or an address", ErrInvalid)
			}
			if b.Get(k.bytes()) != nil {
				continue
			}
			if err := b.Put(k.bytes(), v); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record whitelist entries seen: %w", err)
	}
	return n, nil
}

// WhitelistSeen is when this node first saw the entry (ok false if never).
func (s *Store) WhitelistSeen(k WhitelistEntryKey) (t time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWhitelistSeen)
		if b == nil {
			return nil
		}
		v := b.Get(k.bytes())
		if v == nil {
			return nil
		}
		var perr error
		if t, perr = time.Parse(time.RFC3339Nano, string(v)); perr != nil {
			return fmt.Errorf("%w: first sight of whitelist entry %s/%s", ErrCorrupt, k.Whitelist, k.Address)
		}
		ok = true
		return nil
	})
	return t, ok, err
}

// ForgetWhitelistSeen drops the record of every entry not in keep: an
// entry a policy version removed and a later one lists again is seen anew.
func (s *Store) ForgetWhitelistSeen(keep []WhitelistEntryKey) (int, error) {
	want := make(map[string]bool, len(keep))
	for _, k := range keep {
		want[string(k.bytes())] = true
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketWhitelistSeen)
		if b == nil {
			return nil
		}
		var drop [][]byte
		if err := b.ForEach(func(k, _ []byte) error {
			if !want[string(k)] {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(drop)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forget whitelist entries: %w", err)
	}
	return n, nil
}
