package pkcs11

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults applied by Config.WithDefaults.
const (
	DefaultSealKeyLabel     = "coffer-seal"
	DefaultIdentityKeyLabel = "coffer-node"
	DefaultSessions         = 4
	// MaxSessions bounds Config.Sessions; HSMs limit sessions per client.
	MaxSessions = 64
	// maxTokenLabel is the size of CK_TOKEN_INFO.label.
	maxTokenLabel = 32
)

// Config selects one node's token and keys. It holds no secret: the user
// PIN is named by reference (a file or an environment variable), never
// given literally, so the config file can be shared and logged.
type Config struct {
	// Module is the absolute path of the PKCS#11 module (shared library),
	// for example /usr/lib/softhsm/libsofthsm2.so.
	Module string `yaml:"module"`
	// TokenLabel selects the token; exactly one token must carry it.
	TokenLabel string `yaml:"token_label"`
	// PINFile is the path of a file holding the user PIN (one line).
	PINFile string `yaml:"pin_file,omitempty"`
	// PINEnv is the name of an environment variable holding the user PIN.
	PINEnv string `yaml:"pin_env,omitempty"`
	// SealKeyLabel is the CKA_LABEL of the AES-256 sealing key.
	SealKeyLabel string `yaml:"seal_key_label,omitempty"`
	// IdentityKeyLabel is the CKA_LABEL of both halves of the Ed25519
	// identity key pair.
	IdentityKeyLabel string `yaml:"identity_key_label,omitempty"`
	// Sessions is the number of PKCS#11 sessions kept for concurrent
	// operations (default DefaultSessions, at most MaxSessions).
	Sessions int `yaml:"sessions,omitempty"`
}

// DecodeConfig reads a Config from YAML strictly (an unknown field, such as
// a PIN literal, is an error), applies the defaults and validates it.
func DecodeConfig(r io.Reader) (Config, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("decode hsm config: %w", err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// WithDefaults returns c with every unset optional field set to its default.
func (c Config) WithDefaults() Config {
	if c.SealKeyLabel == "" {
		c.SealKeyLabel = DefaultSealKeyLabel
	}
	if c.IdentityKeyLabel == "" {
		c.IdentityKeyLabel = DefaultIdentityKeyLabel
	}
	if c.Sessions == 0 {
		c.Sessions = DefaultSessions
	}
	return c
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem of c (after defaults), joined. It checks
// the config alone; the module, token, PIN and keys are checked by Open.
func (c Config) Validate() error {
	c = c.WithDefaults()
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
		add("token_label: required")
	case len(c.TokenLabel) > maxTokenLabel:
		add("token_label: %q is longer than %d bytes", c.TokenLabel, maxTokenLabel)
	case strings.TrimSpace(c.TokenLabel) != c.TokenLabel:
		add("token_label: %q has leading or trailing spaces", c.TokenLabel)
	}
	switch {
	case c.PINFile == "" && c.PINEnv == "":
		add("pin_file, pin_env: one is required (the PIN is given by reference, never in the config)")
	case c.PINFile != "" && c.PINEnv != "":
		add("pin_file, pin_env: set only one")
	case c.PINEnv != "" && !envName.MatchString(c.PINEnv):
		add("pin_env: %q is not an environment variable name", c.PINEnv)
	}
	for _, l := range []struct{ field, v string }{
		{"seal_key_label", c.SealKeyLabel},
		{"identity_key_label", c.IdentityKeyLabel},
	} {
		if strings.TrimSpace(l.v) != l.v {
			add("%s: %q has leading or trailing spaces", l.field, l.v)
		}
	}
	if c.SealKeyLabel == c.IdentityKeyLabel {
		add("seal_key_label, identity_key_label: both are %q; they must differ", c.SealKeyLabel)
	}
	if c.Sessions < 1 || c.Sessions > MaxSessions {
		add("sessions: %d is out of range 1..%d", c.Sessions, MaxSessions)
	}
	if len(errs) > 0 {
		return fmt.Errorf("validate hsm config: %w", errors.Join(errs...))
	}
	return nil
}
