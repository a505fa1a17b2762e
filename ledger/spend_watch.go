package ledger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SpendWatcher follows the spends that count against policy limits, in
// the order the store applies them, so a decision can read limit totals
// kept up to date instead of reading the history. The store calls it with
// its apply lock held: a watcher must not call back into the store.
type SpendWatcher interface {
	// SpendsSince is the oldest spend time the watcher wants on a reset.
	SpendsSince() time.Time
	// ResetSpends replaces everything the watcher knows: spends (by
	// transfer ID) at or after SpendsSince, as of log index index.
	ResetSpends(spends map[string]Spend, index uint64) error
	// SpendAdded and SpendRemoved report one change; Applied reports that
	// every change up to log index index was reported.
	SpendAdded(id string, s Spend)
	SpendRemoved(id string)
	Applied(index uint64)
}

// spendDelta is one change to the spends bucket inside a transaction.
type spendDelta struct {
	id    string
	spend *Spend // nil: removed
}

// WatchSpends hands w the current spends and applied index and from then
// on every change as it is applied. One watcher at a time; a later call
// replaces an earlier one.
func (s *Store) WatchSpends(w SpendWatcher) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.resetWatcher(w); err != nil {
		return err
	}
	s.watcher = w
	return nil
}

// resetWatcher loads w from the store; applyMu is held.
func (s *Store) resetWatcher(w SpendWatcher) error {
	spends := map[string]Spend{}
	var index uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if index, err = appliedIndex(tx); err != nil {
			return err
		}
		l, err := openLedgerTx(tx)
		if err != nil || l.spends == nil {
			return err
		}
		c := l.spends.Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, timeBits(w.SpendsSince()))); k != nil; k, v = c.Next() {
			if len(k) <= 8 {
				return fmt.Errorf("%w: spend key %x", ErrCorrupt, k)
			}
			var sp Spend
			if err := json.Unmarshal(v, &sp); err != nil {
				return fmt.Errorf("decode spend %x: %w: %v", k, ErrCorrupt, err)
			}
			spends[string(k[8:])] = sp
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load spends: %w", err)
	}
	return w.ResetSpends(spends, index)
}

// tell reports a committed transaction's spend changes and, when index is
// not 0, its log index to the watcher; applyMu is held.
func (s *Store) tell(deltas []spendDelta, index uint64) {
	w := s.watcher
	if w == nil {
		return
	}
	for _, d := range deltas {
		if d.spend != nil {
			w.SpendAdded(d.id, *d.spend)
		} else {
			w.SpendRemoved(d.id)
		}
	}
	if index != 0 {
		w.Applied(index)
	}
}
