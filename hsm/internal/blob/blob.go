// Package blob is the sealed-blob format shared by every hsm backend:
//
//	version (1 byte, = Version) ‖ nonce (NonceSize bytes) ‖ ciphertext ‖ tag (TagSize bytes)
//
// The ciphertext and tag are those of AES-256-GCM with the caller's
// associated data. The format carries no key identifier: which key opens a
// blob is decided by the node's configuration, and a blob presented to the
// wrong key fails authentication.
//
// Invariant: Split never returns a nonce or ciphertext for a blob shorter
// than Overhead or of an unknown version; such blobs yield an error
// wrapping hsm.ErrMalformedBlob (and therefore hsm.ErrUnseal).
package blob

import (
	"fmt"

	"github.com/cofferhq/coffer/hsm"
)

const (
	// Version is the only format version written and accepted.
	Version byte = 1
	// NonceSize is the AES-GCM IV length in bytes (96 bits).
	NonceSize = 12
	// TagSize is the AES-GCM tag length in bytes (128 bits).
	TagSize = 16
	// Overhead is the length of a blob sealing an empty plaintext.
	Overhead = 1 + NonceSize + TagSize
)

// Join assembles a blob from a nonce and a ciphertext that ends with its tag.
func Join(nonce, sealed []byte) []byte {
	b := make([]byte, 0, 1+len(nonce)+len(sealed))
	b = append(b, Version)
	b = append(b, nonce...)
	return append(b, sealed...)
}

// Split returns the nonce and the ciphertext‖tag of a blob. They alias b.
func Split(b []byte) (nonce, sealed []byte, err error) {
	if len(b) < Overhead {
		return nil, nil, fmt.Errorf("%w: %d bytes, want at least %d", hsm.ErrMalformedBlob, len(b), Overhead)
	}
	if b[0] != Version {
		return nil, nil, fmt.Errorf("%w: unknown version %d", hsm.ErrMalformedBlob, b[0])
	}
	return b[1 : 1+NonceSize], b[1+NonceSize:], nil
}
