package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// MaxDocumentSize bounds a policy document's size in bytes.
const MaxDocumentSize = 16 << 20

// Decode parses a policy document strictly: one YAML document, no unknown
// or duplicate keys, typed scalars (amounts are decimal strings or plain
// integers, durations Go duration text). It does not validate; see New.
func Decode(data []byte) (Document, error) {
	var d Document
	if len(data) > MaxDocumentSize {
		return d, fmt.Errorf("decode policy: %d bytes: %w", len(data), ErrTooLarge)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return Document{}, fmt.Errorf("decode policy: empty document: %w", ErrSyntax)
		}
		return Document{}, fmt.Errorf("decode policy: %w: %w", ErrSyntax, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return Document{}, fmt.Errorf("decode policy: %w: %w", ErrSyntax, err)
	default:
		return Document{}, fmt.Errorf("decode policy: %w", ErrMultipleDocuments)
	}
	return d, nil
}

// Load decodes, validates and compiles a policy document.
func Load(data []byte) (*Policy, error) {
	d, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return New(d)
}

// Validate reports every problem of the document at once (errors.Join of
// *FieldError values wrapping this package's sentinels), or nil.
func (d Document) Validate() error {
	_, err := New(d)
	return err
}
