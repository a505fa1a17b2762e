package hsm

import (
	"context"
	"crypto"
)

// Keystore is one node's HSM. Implementations are safe for concurrent use.
type Keystore interface {
	// Seal encrypts plaintext under the sealing key with AES-256-GCM inside
	// the HSM. aad is authenticated but not encrypted; Open must be given
	// the same aad. The returned blob is self-describing (format version,
	// nonce, ciphertext and tag).
	Seal(ctx context.Context, aad, plaintext []byte) ([]byte, error)
	// Open reverses Seal. Any mismatch (aad, key, tampering) yields an error
	// wrapping ErrUnseal and a nil plaintext.
	Open(ctx context.Context, aad, blob []byte) ([]byte, error)
	// Identity returns the node identity signer. Its Public() is an
	// ed25519.PublicKey; Sign must be called with crypto.Hash(0) and signs
	// the message itself (pure Ed25519), as crypto/tls and note.Signer do.
	Identity() crypto.Signer
	// Close releases the HSM sessions. Later calls fail with ErrClosed.
	Close() error
}
