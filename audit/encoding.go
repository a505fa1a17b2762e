package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
)

// EncodeRecord returns the canonical encoding of rec, the bytes of its
// Merkle leaf (see the package documentation for the rules). It validates
// rec first and fails with ErrInvalid. Times are written in UTC.
func EncodeRecord(rec Record) ([]byte, error) {
	rec = normalized(rec)
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return encode(rec)
}

func encode(rec Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("encode %s record: %w: %w", rec.Kind, ErrInvalid, err)
	}
	out := buf.Bytes()
	out = out[:len(out)-1] // Encode ends the value with '\n'
	if len(out) > MaxRecordSize {
		return nil, fmt.Errorf("encode %s record: %w: %d bytes, at most %d", rec.Kind, ErrInvalid, len(out), MaxRecordSize)
	}
	return out, nil
}

// DecodeRecord decodes a leaf. It accepts only the canonical encoding of a
// valid record of version RecordVersion: unknown or duplicate fields,
// other spellings, whitespace, non-UTC times or trailing bytes are
// ErrMalformed; another version is ErrVersion.
func DecodeRecord(leaf []byte) (Record, error) {
	if len(leaf) > MaxRecordSize {
		return Record{}, fmt.Errorf("decode record: %w: %d bytes, at most %d", ErrMalformed, len(leaf), MaxRecordSize)
	}
	if rec, ok := decodeCanonical(leaf); ok {
		return rec, nil
	}
	return decodeReflect(leaf)
}

// decodeReflect is DecodeRecord with encoding/json: decode, validate,
// re-encode and compare. Unknown, duplicate or differently spelled fields,
// whitespace and trailing bytes all fail the comparison. It gives the
// error messages, and the answer wherever the fast path gives up.
func decodeReflect(leaf []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(leaf, &rec); err != nil {
		var head struct {
			V int `json:"v"`
		}
		if json.Unmarshal(leaf, &head) == nil && head.V != RecordVersion {
			return Record{}, fmt.Errorf("decode record: %w: version %d (this build reads %d)", ErrVersion, head.V, RecordVersion)
		}
		return Record{}, fmt.Errorf("decode record: %w: %w", ErrMalformed, err)
	}
	if rec.V != RecordVersion {
		return Record{}, fmt.Errorf("decode record: %w: version %d (this build reads %d)", ErrVersion, rec.V, RecordVersion)
	}
	if err := rec.Validate(); err != nil {
		return Record{}, fmt.Errorf("decode record: %w: %w", ErrMalformed, err)
	}
	again, err := encode(rec)
	if err != nil {
		return Record{}, fmt.Errorf("decode record: %w: %w", ErrMalformed, err)
	}
	if !bytes.Equal(again, leaf) {
		return Record{}, fmt.Errorf("decode record: %w: not in canonical form", ErrMalformed)
	}
	return rec, nil
}

// LeafHash is the RFC 6962 leaf hash of a leaf: SHA-256(0x00 ‖ leaf).
func LeafHash(leaf []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(leaf) }

// normalized returns rec with every time in UTC and without a monotonic
// clock reading, copying the bodies that hold times.
func normalized(rec Record) Record {
	rec.Time = utc(rec.Time)
	if rec.Policy != nil {
		p := *rec.Policy
		p.EffectiveAt = utc(p.EffectiveAt)
		rec.Policy = &p
	}
	if rec.Transfer != nil {
		t := *rec.Transfer
		t.Expiry = utc(t.Expiry)
		rec.Transfer = &t
	}
	return rec
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}
