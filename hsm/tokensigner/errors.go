package tokensigner

import "errors"

var (
	// ErrUnsupportedKey means the key is neither Ed25519 nor ECDSA P-256,
	// or Sign was called with options that key cannot honour.
	ErrUnsupportedKey = errors.New("tokensigner: unsupported key or signing options")
	// ErrKeyMismatch means a signature made with the private key object
	// does not verify with the public key object of the same label.
	ErrKeyMismatch = errors.New("tokensigner: signature does not verify with the public key (mismatched key pair or faulty module)")
)
