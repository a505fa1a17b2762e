package ledger

import (
	"errors"
	"fmt"
)

var (
	// ErrKeyNotFound means no key has that ID.
	ErrKeyNotFound = errors.New("ledger: key not found")
	// ErrKeyExists means a key with that ID is already registered.
	ErrKeyExists = errors.New("ledger: key already exists")
	// ErrGeneration means a reshared record does not follow the stored one.
	ErrGeneration = errors.New("ledger: key generation does not follow the stored one")
	// ErrPoolEmpty means no pre-parameters are pooled.
	ErrPoolEmpty = errors.New("ledger: pre-parameter pool is empty")
	// ErrLocked means another process holds the store.
	ErrLocked = errors.New("ledger: store is locked by another process")
	// ErrCorrupt means a record could not be decoded.
	ErrCorrupt = errors.New("ledger: corrupt record")
	// ErrInvalid means a record or command failed validation before being
	// written.
	ErrInvalid = errors.New("ledger: invalid record")

	// ErrTransferNotFound means no transfer has that ID.
	ErrTransferNotFound = errors.New("ledger: transfer not found")
	// ErrConflict means a command contradicts what the ledger holds: a
	// request ID reused with another intent, an outpoint or nonce held by
	// another transfer, a session that does not own the reservation, a
	// second signature for a signed transfer.
	ErrConflict = errors.New("ledger: conflict")
	// ErrFinal means the transfer is signed, denied or expired and the
	// command would change it.
	ErrFinal = errors.New("ledger: transfer is final")
	// ErrTransition means the state machine has no such transition; the
	// error is a *TransitionError naming both states.
	ErrTransition = errors.New("ledger: illegal state transition")
	// ErrExpired means the command's time is at or after the transfer's
	// expiry, so it may no longer be reserved for signing.
	ErrExpired = errors.New("ledger: transfer has expired")
	// ErrTimelocked means the command's time is before the transfer's
	// NotBefore, so it may not become ready or be reserved yet.
	ErrTimelocked = errors.New("ledger: transfer is timelocked")
)

// CorruptError names a stored record that could not be decoded: its
// bucket and key. It matches ErrCorrupt with errors.Is.
type CorruptError struct {
	Bucket string
	Key    string
	Err    error // the decoding error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%v: bucket %s, key %s: %v", ErrCorrupt, e.Bucket, e.Key, e.Err)
}

// Is makes errors.Is(err, ErrCorrupt) hold.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the decoding error.
func (e *CorruptError) Unwrap() error { return e.Err }

// TransitionError names an illegal state change. It matches ErrTransition
// with errors.Is.
type TransitionError struct {
	From, To TransferState
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%v: %s -> %s", ErrTransition, e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrTransition) hold.
func (e *TransitionError) Unwrap() error { return ErrTransition }
