package tokensigner

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cofferhq/coffer/hsm/internal/envsecret"
)

// maxLabel is the size of CK_TOKEN_INFO.label.
const maxLabel = 32

// Config names a key on a token. It holds no secret: the user PIN is read
// from the environment variable PINEnv names.
type Config struct {
	// Module is the absolute path of the PKCS#11 module (shared library).
	Module string
	// TokenLabel selects the token; exactly one token must carry it.
	TokenLabel string
	// KeyLabel is the CKA_LABEL of both the private and the public key object.
	KeyLabel string
	// PINEnv is the name of the environment variable holding the user PIN.
	PINEnv string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem of c, joined. It checks the config alone;
// the module, token, PIN and key are checked by Open.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.Module == "":
		add("module: required (path of the PKCS#11 library)")
	case !filepath.IsAbs(c.Module):
		add("module: %q must be an absolute path (a bare name would be searched in the library path)", c.Module)
	}
	switch {
	case c.TokenLabel == "":
		add("token label: required")
	case len(c.TokenLabel) > maxLabel:
		add("token label: %q is longer than %d bytes", c.TokenLabel, maxLabel)
	case strings.TrimSpace(c.TokenLabel) != c.TokenLabel:
		add("token label: %q has leading or trailing spaces", c.TokenLabel)
	}
	switch {
	case c.KeyLabel == "":
		add("key label: required")
	case strings.TrimSpace(c.KeyLabel) != c.KeyLabel:
		add("key label: %q has leading or trailing spaces", c.KeyLabel)
	}
	switch {
	case c.PINEnv == "":
		add("PIN variable: required (the PIN is read from the environment, never given as a value)")
	case !envName.MatchString(c.PINEnv):
		add("PIN variable: %q is not an environment variable name", c.PINEnv)
	}
	if len(errs) > 0 {
		return fmt.Errorf("validate token signer config: %w", errors.Join(errs...))
	}
	return nil
}

// pin is a PIN in memory. It formats and logs as REDACTED whatever the
// verb, so it cannot reach an error or a log line by accident.
type pin struct{ v string }

func (pin) LogValue() slog.Value       { return slog.StringValue("REDACTED") }
func (pin) String() string             { return "REDACTED" }
func (pin) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }

var _ slog.LogValuer = pin{}

// readPIN reads the PIN from the variable c names and unsets it
// (hsm/internal/envsecret). Errors name the variable, never the value.
func readPIN(c Config) (pin, error) {
	v, ok := envsecret.Take(c.PINEnv)
	if !ok {
		return pin{}, fmt.Errorf("read PIN from environment variable %s: not set", c.PINEnv)
	}
	if v == "" {
		return pin{}, fmt.Errorf("read PIN from environment variable %s: empty", c.PINEnv)
	}
	return pin{v: v}, nil
}
