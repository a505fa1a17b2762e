package pki

import (
	"fmt"
	"io"
	"log/slog"
)

// A CA holds its signer, in development a raw ed25519.PrivateKey, which
// fmt would print byte by byte and slog's JSON handler as base64. It
// formats and logs as its certificate's subject; the value receivers
// cover a CA and a *CA.
var (
	_ slog.LogValuer = CA{}
	_ slog.LogValuer = (*CA)(nil)
	_ fmt.Formatter  = CA{}
)

// LogValue names the CA, never its key.
func (c CA) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String names the CA, never its key.
func (c CA) String() string {
	if c.Cert == nil {
		return "CA <nil>"
	}
	return "CA " + c.Cert.Subject.CommonName
}

// Format names the CA, whatever the verb.
func (c CA) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
