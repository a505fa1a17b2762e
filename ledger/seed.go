package ledger

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SeedHistory writes transfers signed in the past straight into the state
// machine's buckets, as the log would have left them: the transfer, its
// time index entry, the inputs it consumed and its spend. It is for
// `coffer bench history`, which needs nodes with a long history without
// signing it; written alike on every node of a stopped cluster, the
// replicated state stays the same everywhere. A running node never calls
// it. It refuses (writing nothing of the batch) a transfer that is not
// signed with its reservation and result, or whose ID is taken.
func (s *Store) SeedHistory(ts []Transfer) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		l, err := openLedgerTx(tx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ID == "" || t.State != StateSigned || t.Reservation == nil || t.Result == nil {
				return invalid("seed %q: not a signed transfer with its reservation and result", t.ID)
			}
			if _, ok, err := l.transfer(t.ID); err != nil || ok {
				return fmt.Errorf("seed %q: %w", t.ID, ErrConflict)
			}
			if err := l.putTransfer(t); err != nil {
				return err
			}
			if err := l.byTime.Put(byTimeKey(t.SubmittedAt, t.ID), nil); err != nil {
				return err
			}
			for _, k := range holdKeys(t.Reservation) {
				if err := l.reservations.Put(k, []byte(t.ID)); err != nil {
					return err
				}
			}
			sp, err := json.Marshal(t.Reservation.Spend)
			if err != nil {
				return err
			}
			if err := l.spends.Put(spendKey(t.Reservation.Spend.At, t.ID), sp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed history: %w", err)
	}
	return nil
}
