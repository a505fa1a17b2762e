package ledger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Transfer buckets. Apply writes them all in one transaction; nothing else
// writes them.
var (
	// bucketTransfers: transfer ID → Transfer (JSON).
	bucketTransfers = []byte("transfers")
	// bucketByTime: newest-first key (inverted SubmittedAt ‖ ID) → nil.
	bucketByTime = []byte("transfers_by_time")
	// bucketReservations: "o/txid:vout" or "n/chain/address#nonce" → the ID
	// of the transfer holding it (signing) or having consumed it (signed).
	bucketReservations = []byte("reservations")
	// bucketSpends: (At ‖ ID) → Spend (JSON), for every transfer holding a
	// reservation.
	bucketSpends = []byte("spends")
	// bucketCommands: big-endian uint64 sequence (from 1) → Command (JSON).
	bucketCommands = []byte("commands")
	// bucketOpen: home ‖ 0x00 ‖ ID → nil for every transfer not in a final
	// state. Derived from bucketTransfers (kept in the same transactions,
	// rebuilt after a restore or when missing), node-local, never in a
	// snapshot: the home node's scheduler reads its open requests from it,
	// at a cost that grows with what is open, not with the history.
	bucketOpen = []byte("transfers_open")
)

// transferBuckets are the buckets Open creates for the state machine.
var transferBuckets = [][]byte{bucketTransfers, bucketByTime, bucketReservations, bucketSpends, bucketCommands}

// ledgerTx is the state machine's view of one bbolt transaction.
type ledgerTx struct {
	transfers, byTime, reservations, spends, commands, open, inputs *bolt.Bucket
	// repl is set when the command comes from the replicated log: the
	// proposer's authority over the transfer is then checked, and spend
	// changes are tracked for reservations' limit checks.
	repl *replCtx
	// deltas are the transaction's spend changes, for the spend watcher.
	deltas []spendDelta
}

// openLedgerTx binds the transfer buckets of tx. Open creates them; a
// write transaction also creates any that are missing (a file written
// before they existed), so Apply never depends on how the file was opened.
// In a read-only transaction a missing bucket is nil and reads as empty.
func openLedgerTx(tx *bolt.Tx) (*ledgerTx, error) {
	bucket := func(name []byte) (*bolt.Bucket, error) {
		if !tx.Writable() {
			return tx.Bucket(name), nil
		}
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return nil, fmt.Errorf("open bucket %s: %w", name, err)
		}
		return b, nil
	}
	l := &ledgerTx{}
	for _, f := range []struct {
		dst  **bolt.Bucket
		name []byte
	}{
		{&l.transfers, bucketTransfers}, {&l.byTime, bucketByTime}, {&l.reservations, bucketReservations},
		{&l.spends, bucketSpends}, {&l.commands, bucketCommands}, {&l.open, bucketOpen}, {&l.inputs, bucketInputs},
	} {
		b, err := bucket(f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = b
	}
	return l, nil
}

// transfer reads one transfer; ok is false when there is none.
func (l *ledgerTx) transfer(id string) (t Transfer, ok bool, err error) {
	if l.transfers == nil {
		return Transfer{}, false, nil
	}
	v := l.transfers.Get([]byte(id))
	if v == nil {
		return Transfer{}, false, nil
	}
	if err := json.Unmarshal(v, &t); err != nil {
		return Transfer{}, false, fmt.Errorf("decode transfer %s: %w", id, &CorruptError{Bucket: string(bucketTransfers), Key: id, Err: err})
	}
	return t, true, nil
}

// mustTransfer reads one transfer or fails with ErrTransferNotFound.
func (l *ledgerTx) mustTransfer(id string) (Transfer, error) {
	t, ok, err := l.transfer(id)
	if err == nil && !ok {
		err = ErrTransferNotFound
	}
	return t, err
}

func (l *ledgerTx) putTransfer(t Transfer) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode transfer %s: %w", t.ID, err)
	}
	if err := l.transfers.Put([]byte(t.ID), v); err != nil {
		return err
	}
	if t.State.Final() {
		return l.open.Delete(openKey(t.Home, t.ID))
	}
	return l.open.Put(openKey(t.Home, t.ID), nil)
}

func openKey(home, id string) []byte {
	k := make([]byte, 0, len(home)+1+len(id))
	k = append(append(k, home...), 0)
	return append(k, id...)
}

// rebuildOpen makes bucketOpen again from the transfers: at Open when the
// file predates it, and after a snapshot restore.
func rebuildOpen(tx *bolt.Tx) error {
	if tx.Bucket(bucketOpen) != nil {
		if err := tx.DeleteBucket(bucketOpen); err != nil {
			return fmt.Errorf("rebuild open index: %w", err)
		}
	}
	open, err := tx.CreateBucket(bucketOpen)
	if err != nil {
		return fmt.Errorf("rebuild open index: %w", err)
	}
	transfers := tx.Bucket(bucketTransfers)
	if transfers == nil {
		return nil
	}
	return transfers.ForEach(func(k, v []byte) error {
		var t struct {
			Home  string        `json:"home"`
			State TransferState `json:"state"`
		}
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("rebuild open index: decode transfer %s: %w: %v", k, ErrCorrupt, err)
		}
		if t.State.Final() {
			return nil
		}
		return open.Put(openKey(t.Home, string(k)), nil)
	})
}

func (l *ledgerTx) appendCommand(cmd Command) (uint64, error) {
	v, err := json.Marshal(cmd)
	if err != nil {
		return 0, fmt.Errorf("encode command: %w", err)
	}
	seq, err := l.commands.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("append command: %w", err)
	}
	return seq, l.commands.Put(seqKey(seq), v)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// timeBits maps t to an unsigned integer in the same order (Unix
// nanoseconds, sign bit flipped), clamping times outside int64 nanoseconds.
func timeBits(t time.Time) uint64 {
	var n int64
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		n = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	return uint64(n) ^ 1<<63
}

// byTimeKey sorts newest first, then by ID ascending.
func byTimeKey(submitted time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, ^timeBits(submitted)), id...)
}

// spendKey sorts oldest first, then by transfer ID.
func spendKey(at time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, timeBits(at)), id...)
}

// holdKeys are the reservation index keys of what r pins.
func holdKeys(r *Reservation) [][]byte {
	keys := make([][]byte, 0, len(r.Outpoints)+1)
	for _, op := range r.Outpoints {
		keys = append(keys, []byte("o/"+op))
	}
	if r.NonceKey != "" {
		keys = append(keys, []byte("n/"+r.NonceKey))
	}
	return keys
}
