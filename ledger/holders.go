package ledger

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Holders returns, for each of the outpoints and the nonce key, the ID of
// the transfer that reserved or consumed it (absent when free). A transfer
// that is signed consumed its holdings for good.
func (s *Store) Holders(outpoints []string, nonceKey string) (map[string]string, error) {
	out := map[string]string{}
	keys := holdKeys(&Reservation{Outpoints: outpoints, NonceKey: nonceKey})
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReservations)
		if b == nil {
			return nil
		}
		for i, k := range keys {
			if v := b.Get(k); v != nil {
				name := nonceKey
				if i < len(outpoints) {
					name = outpoints[i]
				}
				out[name] = string(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read holders: %w", err)
	}
	return out, nil
}
