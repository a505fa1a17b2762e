package tss

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrBadPreParams means pre-parameters are missing or fail validation.
	ErrBadPreParams = errors.New("tss: invalid pre-parameters")
	// ErrBadShare means a key share could not be decoded or does not match its key.
	ErrBadShare = errors.New("tss: invalid key share")
	// ErrHardenedPath means a derivation index is hardened (>= 2^31).
	ErrHardenedPath = errors.New("tss: hardened derivation is not possible with a threshold key")
	// ErrBadSpec means a session spec is inconsistent.
	ErrBadSpec = errors.New("tss: invalid session spec")
	// ErrBadMessage means a peer message was refused.
	ErrBadMessage = errors.New("tss: peer message refused")
	// ErrAborted means the session was aborted.
	ErrAborted = errors.New("tss: session aborted")
	// ErrPeerAborted means a peer refused a message because it had already
	// aborted the session: the peer is not to blame for the refusal.
	ErrPeerAborted = errors.New("tss: peer had already aborted the session")
	// ErrVariableTime means tss-lib's constant-time arithmetic is off: no
	// session runs with secrets in variable-time math/big code.
	ErrVariableTime = errors.New("tss: constant-time arithmetic is off")
)

// SessionError is a failed session with the nodes held responsible, when
// tss-lib or the transport identified any.
type SessionError struct {
	Reason   string
	Culprits []string // node IDs
	Err      error
}

func (e *SessionError) Error() string {
	var b strings.Builder
	b.WriteString("session failed: ")
	b.WriteString(e.Reason)
	if len(e.Culprits) > 0 {
		fmt.Fprintf(&b, " (culprit: %s)", strings.Join(e.Culprits, ", "))
	}
	return b.String()
}

func (e *SessionError) Unwrap() error { return e.Err }
