package ledger

import "errors"

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
	// ErrInvalid means a record failed validation before being written.
	ErrInvalid = errors.New("ledger: invalid record")
)
