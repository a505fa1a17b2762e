package tss

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Shares and pre-parameters are secret (DESIGN.md §1.3): they must reach
// no log line, error message or JSON document by accident. Each formats
// (every fmt verb), logs (slog.LogValuer) and JSON-encodes as nothing
// secret. The methods have value receivers, so that a value and a pointer
// are both covered. A nil pointer formats as <nil> (fmt recovers), and in
// slog as a "LogValue panicked" value: never the secret.
//
// JSON encoding is refused rather than redacted: slog.JSONHandler encodes
// a struct attribute with encoding/json, which does not call LogValue on
// the fields, so a config or record holding a *Share would otherwise print
// Xi; and a share written to a document as "REDACTED" would be lost in
// silence. Sealing uses MarshalShare and MarshalPreParams, which encode
// tss-lib's types, not these.

const redacted = "REDACTED"

var (
	_ slog.LogValuer = Share{}
	_ slog.LogValuer = (*Share)(nil)
	_ fmt.Formatter  = Share{}
	_ fmt.Stringer   = Share{}
	_ json.Marshaler = Share{}
	_ slog.LogValuer = PreParams{}
	_ slog.LogValuer = (*PreParams)(nil)
	_ fmt.Formatter  = PreParams{}
	_ fmt.Stringer   = PreParams{}
	_ json.Marshaler = PreParams{}
)

// errJSONSecret is what encoding/json gets for a Share or PreParams.
var errJSONSecret = errors.New("tss: shares and pre-parameters are not JSON-encoded (seal them with MarshalShare or MarshalPreParams)")

// LogValue keeps the share out of logs.
func (Share) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps the share out of messages.
func (Share) String() string { return redacted }

// Format keeps the share out of messages, whatever the verb.
func (Share) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON refuses: see above.
func (Share) MarshalJSON() ([]byte, error) { return nil, errJSONSecret }

// LogValue keeps the pre-parameters out of logs.
func (PreParams) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps the pre-parameters out of messages.
func (PreParams) String() string { return redacted }

// Format keeps the pre-parameters out of messages, whatever the verb.
func (PreParams) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalJSON refuses: see above.
func (PreParams) MarshalJSON() ([]byte, error) { return nil, errJSONSecret }
