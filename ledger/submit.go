package ledger

import (
	"bytes"
	"fmt"
)

// submit stores a new transfer in the state its proposer decided. The
// request ID is the idempotency key: the same ID with byte-identical digest
// and intent returns the stored transfer unchanged (whatever its state now,
// so a retry gets the stored result); the same ID with anything else is a
// conflict.
func (l *ledgerTx) submit(cmd Command) (Transfer, bool, error) {
	t := *cmd.Submit
	old, ok, err := l.transfer(t.ID)
	if err != nil {
		return Transfer{}, false, err
	}
	if ok {
		if bytes.Equal(old.Digest, t.Digest) && bytes.Equal(old.Intent, t.Intent) {
			return old, false, nil
		}
		return Transfer{}, false, fmt.Errorf("%w: request ID reused with a different intent", ErrConflict)
	}
	if t.State == StateReady && cmd.At.Before(t.NotBefore) {
		return Transfer{}, false, fmt.Errorf("%w: ready before not_before %s", ErrTimelocked, t.NotBefore.Format(timeFormat))
	}
	t.Approvals, t.Reservation, t.Result, t.Attempts = nil, nil, nil, 0
	t.UpdatedAt = cmd.At
	if err := l.byTime.Put(byTimeKey(t.SubmittedAt, t.ID), nil); err != nil {
		return Transfer{}, false, fmt.Errorf("index transfer: %w", err)
	}
	return t, true, nil
}
