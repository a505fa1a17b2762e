package signer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/peerpb"
	ctss "github.com/cofferhq/coffer/signer/tss"
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

// SelfTestDigest is the only digest the self-test signs (see
// ctss.SelfTestDigest).
func SelfTestDigest(keyID string, nonce []byte) [32]byte { return ctss.SelfTestDigest(keyID, nonce) }

// ValidKeyID reports whether id is a well-formed key ID (see
// ctss.ValidKeyID).
func ValidKeyID(id string) bool { return ctss.ValidKeyID(id) }

func short(id []byte) string {
	if len(id) > 6 {
		id = id[:6]
	}
	return hex.EncodeToString(id)
}
