package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// keyApplied is the meta key of the last log index applied by ApplyIndexed.
var keyApplied = []byte("applied_index")

// ErrRefused wraps a command the state machine refused when applied from
// the replicated log: the refusal is deterministic (every node refuses the
// same entry the same way), the entry counts as applied, and no transfer
// changes.
var ErrRefused = errors.New("ledger: command refused")

// replicatedBuckets are the buckets every node holds identically: the
// transfer state machine and the policy versions. A snapshot carries
// exactly these; node-local buckets (sealed key shares, the pre-parameter
// pool, bookkeeping, the audit log) are never in one.
var replicatedBuckets = [][]byte{bucketTransfers, bucketByTime, bucketReservations, bucketSpends, bucketCommands,
	bucketPolicies, bucketSpendChanges, bucketOrigins, bucketKeyShares, bucketInputs}

// SetApprovalVerifier sets the verifier of officer approvals applied from
// the replicated log. Set it before the log is applied; without one, every
// replicated approval is refused.
func (s *Store) SetApprovalVerifier(v ApprovalVerifier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verifier = v
}

// ApplyIndexed applies the command at log index index, proposed by origin
// (whose signature the caller verified), once: an index at or below the
// last one applied is skipped (skipped is true, nothing happens), as when
// the log is replayed after a restart. On top of what Apply checks, the
// proposer must have authority over the command (authority.go), and an
// origin sequence number seen before is a replay. A refused command is
// recorded as applied (its sequence number consumed) and returned as an
// error wrapping ErrRefused; any other error means the store failed and
// nothing was recorded.
func (s *Store) ApplyIndexed(index uint64, origin Origin, cmd Command) (out Transfer, skipped bool, err error) {
	if index == 0 {
		return Transfer{}, false, fmt.Errorf("apply log entry: %w: index 0", ErrInvalid)
	}
	s.mu.Lock()
	repl := &replCtx{index: index, origin: origin, verifier: s.verifier, policies: s.policies}
	s.mu.Unlock()
	cmd = cmd.normalized()
	refusal := cmd.check()
	var r applied
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		last, err := appliedIndex(tx)
		if err != nil {
			return err
		}
		if index <= last {
			skipped = true
			return nil
		}
		if refusal == nil {
			refusal = takeOrigin(tx, origin)
		}
		if refusal == nil {
			r, refusal = applyTx(tx, cmd, repl)
		}
		if refusal != nil {
			return refusal // roll the command back; the index is recorded below
		}
		return setApplied(tx, index)
	})
	switch {
	case skipped:
		return Transfer{}, true, nil
	case err != nil && err != refusal:
		return Transfer{}, false, fmt.Errorf("apply log entry %d: %w", index, err)
	case refusal != nil:
		if !deterministic(refusal) {
			// the store failed (a disk error, a corrupt record): not a
			// refusal every node makes, so the entry is not applied
			return Transfer{}, false, fmt.Errorf("apply log entry %d: %w", index, refusal)
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			_ = takeOrigin(tx, origin) // consumed even when refused: a replay later is refused too
			return setApplied(tx, index)
		})
		if err != nil {
			return Transfer{}, false, fmt.Errorf("apply log entry %d: %w", index, err)
		}
		s.tell(nil, index)
		return Transfer{}, false, fmt.Errorf("%w: %s to transfer %q: %w", ErrRefused, cmd.Kind, cmd.ID, refusal)
	}
	s.tell(r.deltas, index)
	s.logApplied(cmd, r)
	return r.out, false, nil
}

// deterministic reports whether err is a refusal that follows from the
// command and the replicated state alone, so every node makes it.
func deterministic(err error) bool {
	for _, e := range []error{ErrInvalid, ErrConflict, ErrFinal, ErrTransition, ErrExpired, ErrTimelocked, ErrTransferNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// MarkApplied records index as applied without a ledger command (a log
// entry for another part of the node, refused before it reached here).
func (s *Store) MarkApplied(index uint64) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	moved := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		last, err := appliedIndex(tx)
		if err != nil || index <= last {
			return err
		}
		moved = true
		return setApplied(tx, index)
	})
	if err == nil && moved {
		s.tell(nil, index)
	}
	return err
}

// AppliedIndex is the last log index applied (0 for none).
func (s *Store) AppliedIndex() (uint64, error) {
	var idx uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		idx, err = appliedIndex(tx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read applied index: %w", err)
	}
	return idx, nil
}

func appliedIndex(tx *bolt.Tx) (uint64, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0, nil
	}
	v := b.Get(keyApplied)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("%w: applied index of %d bytes", ErrCorrupt, len(v))
}

func setApplied(tx *bolt.Tx, index uint64) error {
	b, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	return b.Put(keyApplied, binary.BigEndian.AppendUint64(nil, index))
}
