package signer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/peerpb"
)

// SessionID is SHA-256 over a domain tag and the deterministic encoding of
// the spec: each participant recomputes it and refuses a mismatch.
func SessionID(spec *peerpb.SessionSpec) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode session spec: %w", err)
	}
	h := sha256.New()
	h.Write([]byte("coffer/session/v1\x00"))
	h.Write(b)
	return h.Sum(nil), nil
}

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

var keyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidKeyID reports whether id is a well-formed key ID.
func ValidKeyID(id string) bool { return keyIDPattern.MatchString(id) }

func short(id []byte) string {
	if len(id) > 6 {
		id = id[:6]
	}
	return hex.EncodeToString(id)
}
