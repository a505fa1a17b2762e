package vault

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/cofferhq/coffer/hsm/internal/envsecret"
)

// secret is a token, role ID or secret ID in memory. It formats and logs as
// REDACTED, whatever the verb, so it cannot reach a log line or an error
// message by accident. (Vault's client keeps the token as a Go string, so
// it cannot be zeroed.)
type secret struct{ v string }

func (secret) LogValue() slog.Value       { return slog.StringValue("REDACTED") }
func (secret) String() string             { return "REDACTED" }
func (secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }
func (s secret) reveal() string           { return s.v }

// errEmptySecret is returned for a file or variable that holds nothing.
var errEmptySecret = errors.New("empty")

// readSecret resolves a secret given by file or environment variable;
// what names it in errors ("token", "AppRole secret ID"). A variable is
// unset as it is read (hsm/internal/envsecret). Errors name the file or
// the variable, never the value.
func readSecret(what, file, env string, log *slog.Logger) (secret, error) {
	if env != "" {
		v, ok := envsecret.Take(env)
		if !ok {
			return secret{}, fmt.Errorf("read %s from environment variable %s: not set", what, env)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return secret{}, fmt.Errorf("read %s from environment variable %s: %w", what, env, errEmptySecret)
		}
		return secret{v: v}, nil
	}
	info, err := os.Stat(file)
	if err != nil {
		return secret{}, fmt.Errorf("read %s file %s: %w", what, file, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		log.Warn("secret file is readable by group or others; chmod 600 it", "what", what, "path", file, "mode", info.Mode().Perm().String())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return secret{}, fmt.Errorf("read %s file %s: %w", what, file, err)
	}
	s := secret{v: strings.TrimSpace(string(b))}
	clear(b)
	if s.v == "" {
		return secret{}, fmt.Errorf("read %s file %s: %w", what, file, errEmptySecret)
	}
	return s, nil
}
