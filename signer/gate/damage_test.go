package gate

import (
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/ledger"
)

// A record of this node's store that does not decode is the node's
// damage, not the caller's mistake: Build says ErrStoreDamaged (never
// ErrIntent) when the pinned amount of an input it spends is garbage.
func TestDamagedRecordIsNotAnIntentError(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	b, _ := f.sweep(t, "r1", 100_000, now)
	op := b.Inputs[0].Outpoint
	err := f.store.DB().Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte("input_amounts"))
		if err != nil {
			return err
		}
		return bk.Put([]byte(op), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.g.Build(f.pv, b.In, "svc", "withdrawal", now)
	if !errors.Is(err, ErrStoreDamaged) || !errors.Is(err, ledger.ErrCorrupt) || errors.Is(err, ErrIntent) {
		t.Fatalf("Build over a damaged pinned input: %v", err)
	}
}
