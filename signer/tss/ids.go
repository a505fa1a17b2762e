package tss

import (
	"crypto/sha256"
	"regexp"
)

var keyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidKeyID reports whether id is a well-formed key ID: lowercase
// letters, digits, '.', '_' and '-', at most 63 bytes.
func ValidKeyID(id string) bool { return keyIDPattern.MatchString(id) }

// SelfTestDigest is the only digest the self-test signs: a domain-tagged
// hash no chain uses as a sighash. Every signer computes it itself.
func SelfTestDigest(keyID string, nonce []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("coffer/selftest/v1\x00"))
	h.Write([]byte(keyID))
	h.Write([]byte{0})
	h.Write(nonce)
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}
