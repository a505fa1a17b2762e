package pkcs11

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/cofferhq/coffer/hsm/internal/envsecret"
)

// secret is a PIN in memory. It formats and logs as REDACTED, whatever the
// verb, so a PIN cannot reach a log line or an error message by accident.
// (miekg/pkcs11 takes the PIN as a Go string, so it cannot be zeroed.)
type secret struct{ v string }

func (secret) LogValue() slog.Value       { return slog.StringValue("REDACTED") }
func (secret) String() string             { return "REDACTED" }
func (secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }
func (s secret) reveal() string           { return s.v }
func newSecret(v string) secret           { return secret{v: v} }
func (s secret) empty() bool              { return s.v == "" }

// readPIN resolves the PIN reference of cfg. A variable is unset as it is
// read (hsm/internal/envsecret). Errors name the file or the variable,
// never the value.
func readPIN(cfg Config, log *slog.Logger) (secret, error) {
	if cfg.PINEnv != "" {
		v, ok := envsecret.Take(cfg.PINEnv)
		if !ok {
			return secret{}, fmt.Errorf("read PIN from environment variable %s: not set", cfg.PINEnv)
		}
		if v == "" {
			return secret{}, fmt.Errorf("read PIN from environment variable %s: %w", cfg.PINEnv, errEmptyPIN)
		}
		return newSecret(v), nil
	}
	info, err := os.Stat(cfg.PINFile)
	if err != nil {
		return secret{}, fmt.Errorf("read PIN file %s: %w", cfg.PINFile, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		log.Warn("PIN file is readable by group or others; chmod 600 it", "path", cfg.PINFile, "mode", info.Mode().Perm().String())
	}
	b, err := os.ReadFile(cfg.PINFile)
	if err != nil {
		return secret{}, fmt.Errorf("read PIN file %s: %w", cfg.PINFile, err)
	}
	s := newSecret(strings.TrimRight(string(b), "\r\n"))
	clear(b)
	if s.empty() {
		return secret{}, fmt.Errorf("read PIN file %s: %w", cfg.PINFile, errEmptyPIN)
	}
	return s, nil
}
