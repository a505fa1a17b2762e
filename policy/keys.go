package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// Key text prefixes. An Ed25519 key is "ed25519:" + base64 (standard, padded)
// of its 32 bytes; a P-256 key is "p256:" + base64 of its 65-byte
// uncompressed SEC 1 point.
const (
	keyPrefixEd25519 = "ed25519:"
	keyPrefixP256    = "p256:"
)

// PublicKey is an officer's or admin's verification key: Ed25519 or ECDSA
// P-256. Ed25519 signs the message itself; P-256 signs SHA-256(message)
// with an ASN.1 DER signature.
type PublicKey struct {
	ed ed25519.PublicKey
	ec *ecdsa.PublicKey
}

// ParsePublicKey parses the text form ("ed25519:…" or "p256:…").
func ParsePublicKey(s string) (PublicKey, error) {
	switch {
	case strings.HasPrefix(s, keyPrefixEd25519):
		b, err := base64.StdEncoding.Strict().DecodeString(s[len(keyPrefixEd25519):])
		if err != nil || len(b) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("parse ed25519 key: want base64 of 32 bytes: %w", ErrInvalidKey)
		}
		return PublicKey{ed: ed25519.PublicKey(b)}, nil
	case strings.HasPrefix(s, keyPrefixP256):
		b, err := base64.StdEncoding.Strict().DecodeString(s[len(keyPrefixP256):])
		if err != nil {
			return PublicKey{}, fmt.Errorf("parse p256 key: %w", ErrInvalidKey)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
		if err != nil {
			return PublicKey{}, fmt.Errorf("parse p256 key: %w", ErrInvalidKey)
		}
		return PublicKey{ec: k}, nil
	default:
		return PublicKey{}, fmt.Errorf("parse key: want prefix %q or %q: %w", keyPrefixEd25519, keyPrefixP256, ErrInvalidKey)
	}
}

// PublicKeyFrom converts an ed25519.PublicKey or a P-256 *ecdsa.PublicKey.
func PublicKeyFrom(pub crypto.PublicKey) (PublicKey, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("convert ed25519 key: %w", ErrInvalidKey)
		}
		return PublicKey{ed: append(ed25519.PublicKey(nil), k...)}, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return PublicKey{}, fmt.Errorf("convert ecdsa key: curve is not P-256: %w", ErrUnsupportedKey)
		}
		return PublicKey{ec: k}, nil
	default:
		return PublicKey{}, fmt.Errorf("convert %T: %w", pub, ErrUnsupportedKey)
	}
}

// IsZero reports whether k holds no key.
func (k PublicKey) IsZero() bool { return k.ed == nil && k.ec == nil }

// Algorithm returns "ed25519", "p256" or "" for the zero key.
func (k PublicKey) Algorithm() string {
	switch {
	case k.ed != nil:
		return "ed25519"
	case k.ec != nil:
		return "p256"
	}
	return ""
}

// String returns the canonical text form.
func (k PublicKey) String() string {
	switch {
	case k.ed != nil:
		return keyPrefixEd25519 + base64.StdEncoding.EncodeToString(k.ed)
	case k.ec != nil:
		b, err := k.ec.Bytes()
		if err != nil {
			return ""
		}
		return keyPrefixP256 + base64.StdEncoding.EncodeToString(b)
	}
	return ""
}

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool { return k.String() == o.String() }

// Verify reports whether sig is k's signature over msg.
func (k PublicKey) Verify(msg, sig []byte) bool {
	switch {
	case k.ed != nil:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, msg, sig)
	case k.ec != nil:
		d := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(k.ec, d[:], sig)
	}
	return false
}

// Sign signs msg with an Ed25519 or P-256 signer the way Verify expects.
// rand is used by ECDSA only.
func Sign(rand io.Reader, s crypto.Signer, msg []byte) ([]byte, error) {
	switch pub := s.Public().(type) {
	case ed25519.PublicKey:
		return s.Sign(rand, msg, crypto.Hash(0))
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("sign: curve is not P-256: %w", ErrUnsupportedKey)
		}
		d := sha256.Sum256(msg)
		return s.Sign(rand, d[:], crypto.SHA256)
	default:
		return nil, fmt.Errorf("sign with %T: %w", pub, ErrUnsupportedKey)
	}
}
