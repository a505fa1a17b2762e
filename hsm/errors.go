package hsm

import (
	"errors"
	"fmt"
)

var (
	// ErrUnseal means a sealed blob could not be opened: wrong associated
	// data, another node's key, or a modified blob. No plaintext is returned.
	ErrUnseal = errors.New("hsm: unseal failed (blob was sealed for another key, node or purpose, or was modified)")
	// ErrTokenNotFound means no token carries the configured label.
	ErrTokenNotFound = errors.New("hsm: token not found")
	// ErrLogin means the token refused the PIN.
	ErrLogin = errors.New("hsm: login refused")
	// ErrKeyNotFound means a configured key is missing from the token.
	ErrKeyNotFound = errors.New("hsm: key not found")
	// ErrKeyExists means provisioning found a key already present.
	ErrKeyExists = errors.New("hsm: key already exists")
	// ErrKeyPolicy means a key was found but its attributes break the rules
	// of DESIGN.md §4: it is extractable, not sensitive, not a token object,
	// not private, or of the wrong type or size. The node refuses to use it.
	ErrKeyPolicy = errors.New("hsm: key attributes violate policy (must be a private, sensitive, non-extractable token key of the expected type)")
	// ErrClosed means the keystore was closed.
	ErrClosed = errors.New("hsm: keystore closed")
	// ErrMalformedBlob means a sealed blob is not in a known format (unknown
	// version, too short). A malformed blob is one kind of unsealing
	// failure: errors.Is(err, ErrUnseal) holds for it too, so callers that
	// only care whether a blob opened need to check ErrUnseal alone.
	ErrMalformedBlob = fmt.Errorf("%w: malformed sealed blob", ErrUnseal)
)
