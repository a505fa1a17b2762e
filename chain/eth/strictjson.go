package eth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxIntentSize bounds a JSON intent.
const maxIntentSize = 16 << 10

// decodeStrict decodes exactly one JSON object from data into v. Unknown
// fields, duplicate keys, keys that are not lower-case ASCII (encoding/json
// would match them case-insensitively), and trailing data are errors.
func decodeStrict(data []byte, v any) error {
	if len(data) > maxIntentSize {
		return fmt.Errorf("read %d bytes (limit %d): %w", len(data), maxIntentSize, ErrIntentTooLarge)
	}
	if err := checkKeys(json.NewDecoder(bytes.NewReader(data)), true); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("read field %s: %w", name, ErrUnknownField)
		}
		return fmt.Errorf("parse JSON: %v: %w", err, ErrMalformedIntent)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrTrailingData
	}
	return nil
}

// checkKeys walks one JSON value and rejects duplicate or non-lower-case
// object keys. With top set, the value must be an object.
func checkKeys(dec *json.Decoder, top bool) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("parse JSON: %v: %w", err, ErrMalformedIntent)
	}
	delim, ok := tok.(json.Delim)
	if top && delim != '{' {
		return fmt.Errorf("parse JSON: want an object: %w", ErrMalformedIntent)
	}
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		if delim == '{' {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("parse JSON: %v: %w", err, ErrMalformedIntent)
			}
			key, _ := tok.(string)
			if !isLowerKey(key) {
				return fmt.Errorf("read field %q: %w", key, ErrUnknownField)
			}
			if seen[key] {
				return fmt.Errorf("read field %q: %w", key, ErrDuplicateKey)
			}
			seen[key] = true
		}
		if err := checkKeys(dec, false); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("parse JSON: %v: %w", err, ErrMalformedIntent)
	}
	return nil
}

// isLowerKey reports whether key uses only a-z, 0-9 and '_'.
func isLowerKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
