package hsm

import (
	"errors"
	"fmt"
)

var (
	// ErrUnseal means a sealed blob could not be opened: wrong associated
	// data, another node's key, or a modified blob. No plaintext is returned.
	// It is the tamper signal: a backend reports it only when the HSM
	// worked and the blob did not authenticate, never when the HSM itself
	// failed (hsm/pkcs11 then wraps ErrUnavailable; hsm/vault keeps its
	// own errors).
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
	// not private, of the wrong type or size, was not generated in the HSM
	// (imported with a value known outside), or may wrap, unwrap or derive
	// keys. The node refuses to use it.
	ErrKeyPolicy = errors.New("hsm: key attributes violate policy (must be a private, sensitive, non-extractable token key of the expected type, generated in the HSM)")
	// ErrUnavailable means the HSM could not do the operation: the token
	// was removed, the session or login was lost, or the device failed. It
	// says nothing about the blob, which may well open once the HSM is
	// back; backends wrap it with what they know (hsm/pkcs11:
	// ErrTokenNotPresent, ErrSessionLost, ErrNotLoggedIn, ErrDevice).
	ErrUnavailable = errors.New("hsm: unavailable")
	// ErrClosed means the keystore was closed.
	ErrClosed = errors.New("hsm: keystore closed")
	// ErrMalformedBlob means a sealed blob is not in a known format (unknown
	// version, too short). A malformed blob is one kind of unsealing
	// failure: errors.Is(err, ErrUnseal) holds for it too, so callers that
	// only care whether a blob opened need to check ErrUnseal alone.
	ErrMalformedBlob = fmt.Errorf("%w: malformed sealed blob", ErrUnseal)
)
