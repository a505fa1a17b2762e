package audit

import (
	"encoding/hex"
	"fmt"
)

// Digest is a SHA-256 value (request digest, session ID, policy hash). Its
// text form is 64 lowercase hex digits; decoding accepts nothing else.
type Digest [32]byte

// IsZero reports whether d is all zeros (unset).
func (d Digest) IsZero() bool { return d == Digest{} }

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(d)))
	hex.Encode(out, d[:])
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler: exactly 64 lowercase
// hex digits.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 2*len(d) || !lowerHex(b) {
		return fmt.Errorf("digest %.80q: want 64 lowercase hex digits", b)
	}
	_, err := hex.Decode(d[:], b)
	return err
}

// ParseDigest parses 64 lowercase hex digits.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	err := d.UnmarshalText([]byte(s))
	return d, err
}

// HexBytes is a byte string whose text form is lowercase hex.
type HexBytes []byte

func (h HexBytes) String() string { return hex.EncodeToString(h) }

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h)
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler: lowercase hex only.
func (h *HexBytes) UnmarshalText(b []byte) error {
	if len(b)%2 != 0 || !lowerHex(b) {
		return fmt.Errorf("hex %.80q: want an even number of lowercase hex digits", b)
	}
	out := make([]byte, len(b)/2)
	if _, err := hex.Decode(out, b); err != nil {
		return err
	}
	*h = out
	return nil
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
