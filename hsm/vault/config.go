package vault

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied by WithDefaults.
const (
	DefaultMount        = "transit"
	DefaultSealKey      = "coffer-seal"
	DefaultIdentityKey  = "coffer-node"
	DefaultAppRoleMount = "approle"
	DefaultTimeout      = 10 * time.Second
	// MaxTimeout bounds Connection.Timeout.
	MaxTimeout = 5 * time.Minute
)

// Connection says how to reach and log in to one Vault server. It holds no
// secret: the token, or the AppRole role and secret IDs, are named by
// reference (a file or an environment variable), so the config can be
// shared and logged. The Vault client's own environment variables
// (VAULT_ADDR, VAULT_TOKEN, VAULT_SKIP_VERIFY, …) are ignored.
type Connection struct {
	// Address is the server's URL: https://host:port, or http:// on a
	// loopback address only (a dev server), so a token never crosses a
	// network in the clear.
	Address string `yaml:"address"`
	// CAFile is a PEM file of the CA certificates that Vault's TLS
	// certificate must chain to; required with https. The system roots are
	// never used.
	CAFile string `yaml:"ca_file,omitempty"`
	// Timeout bounds one request to Vault, retries included (default
	// DefaultTimeout).
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// Auth chooses how to log in.
	Auth Auth `yaml:"auth"`
}

// Auth is exactly one of a token (from a file or an environment variable)
// and an AppRole login.
type Auth struct {
	TokenFile string   `yaml:"token_file,omitempty"`
	TokenEnv  string   `yaml:"token_env,omitempty"`
	AppRole   *AppRole `yaml:"approle,omitempty"`
}

// AppRole logs in at auth/MOUNT/login with a role ID and a secret ID, each
// read from a file or an environment variable. The token it gets is
// renewed by logging in again before it expires, and revoked by Close.
type AppRole struct {
	// Mount is the AppRole auth method's path (default "approle").
	Mount        string `yaml:"mount,omitempty"`
	RoleIDFile   string `yaml:"role_id_file,omitempty"`
	RoleIDEnv    string `yaml:"role_id_env,omitempty"`
	SecretIDFile string `yaml:"secret_id_file,omitempty"`
	SecretIDEnv  string `yaml:"secret_id_env,omitempty"`
}

// Config selects a node's transit keys on a Vault server.
type Config struct {
	Connection `yaml:",inline"`
	// Mount is the transit secrets engine's path (default "transit").
	Mount string `yaml:"mount,omitempty"`
	// SealKey names the aes256-gcm96 transit key that seals shares and
	// pre-parameters (default "coffer-seal").
	SealKey string `yaml:"seal_key,omitempty"`
	// IdentityKey names the ed25519 transit key of the node identity
	// (default "coffer-node").
	IdentityKey string `yaml:"identity_key,omitempty"`
}

// DecodeConfig reads a Config from YAML strictly (an unknown field, such as
// a literal token, is an error), applies the defaults and validates it.
func DecodeConfig(r io.Reader) (Config, error) {
	var c Config
	if err := decodeStrict(r, &c); err != nil {
		return Config{}, fmt.Errorf("decode vault config: %w", err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// DecodeConnection reads a Connection from YAML strictly, applies the
// defaults and validates it (for tools that only talk to Vault: backups).
func DecodeConnection(r io.Reader) (Connection, error) {
	var c Connection
	if err := decodeStrict(r, &c); err != nil {
		return Connection{}, fmt.Errorf("decode vault connection: %w", err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Connection{}, err
	}
	return c, nil
}

func decodeStrict(r io.Reader, v any) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("more than one YAML document")
	}
	return nil
}

// WithDefaults returns c with every unset optional field set.
func (c Connection) WithDefaults() Connection {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Auth.AppRole != nil {
		a := *c.Auth.AppRole
		if a.Mount == "" {
			a.Mount = DefaultAppRoleMount
		}
		c.Auth.AppRole = &a
	}
	return c
}

// WithDefaults returns c with every unset optional field set.
func (c Config) WithDefaults() Config {
	c.Connection = c.Connection.WithDefaults()
	if c.Mount == "" {
		c.Mount = DefaultMount
	}
	if c.SealKey == "" {
		c.SealKey = DefaultSealKey
	}
	if c.IdentityKey == "" {
		c.IdentityKey = DefaultIdentityKey
	}
	return c
}

var (
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// keyName is what transit accepts as a key name.
	keyName = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
	// mountPath is one or more path segments of the same characters.
	mountPath = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$`)
)

// Validate reports every problem of c (after defaults), joined. It checks
// the config alone; the server, the login and the keys are checked by Open.
func (c Config) Validate() error {
	c = c.WithDefaults()
	errs := c.Connection.problems()
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkMount(c.Mount); err != nil {
		add("mount: %w", err)
	}
	for _, k := range []struct{ field, v string }{{"seal_key", c.SealKey}, {"identity_key", c.IdentityKey}} {
		if !keyName.MatchString(k.v) {
			add("%s: %q is not a transit key name (letters, digits, _ . -)", k.field, k.v)
		}
	}
	if c.SealKey == c.IdentityKey {
		add("seal_key, identity_key: both are %q; they must differ", c.SealKey)
	}
	if len(errs) > 0 {
		return fmt.Errorf("validate vault config: %w", errors.Join(errs...))
	}
	return nil
}

// Validate reports every problem of c (after defaults), joined.
func (c Connection) Validate() error {
	if errs := c.WithDefaults().problems(); len(errs) > 0 {
		return fmt.Errorf("validate vault connection: %w", errors.Join(errs...))
	}
	return nil
}

func (c Connection) problems() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkAddress(c.Address, c.CAFile); err != nil {
		add("address: %w", err)
	}
	if c.Timeout < time.Second || c.Timeout > MaxTimeout {
		add("timeout: %v is out of range 1s..%v", c.Timeout, MaxTimeout)
	}
	a := c.Auth
	n := 0
	for _, set := range []bool{a.TokenFile != "", a.TokenEnv != "", a.AppRole != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		add("auth: one of token_file, token_env, approle is required (secrets are given by reference, never in the config)")
	case n > 1:
		add("auth: set only one of token_file, token_env, approle")
	}
	if a.TokenEnv != "" && !envName.MatchString(a.TokenEnv) {
		add("auth.token_env: %q is not an environment variable name", a.TokenEnv)
	}
	if r := a.AppRole; r != nil {
		if err := checkMount(r.Mount); err != nil {
			add("auth.approle.mount: %w", err)
		}
		errs = append(errs, refProblems("auth.approle.role_id", r.RoleIDFile, r.RoleIDEnv)...)
		errs = append(errs, refProblems("auth.approle.secret_id", r.SecretIDFile, r.SecretIDEnv)...)
	}
	return errs
}

// refProblems checks a secret given by a file or an environment variable.
func refProblems(field, file, env string) []error {
	switch {
	case file == "" && env == "":
		return []error{fmt.Errorf("%s_file, %s_env: one is required", field, field)}
	case file != "" && env != "":
		return []error{fmt.Errorf("%s_file, %s_env: set only one", field, field)}
	case env != "" && !envName.MatchString(env):
		return []error{fmt.Errorf("%s_env: %q is not an environment variable name", field, env)}
	}
	return nil
}

func checkMount(m string) error {
	if !mountPath.MatchString(m) || strings.Contains(m, "..") {
		return fmt.Errorf("%q is not a mount path (segments of letters, digits, _ . -, no leading or trailing /)", m)
	}
	return nil
}

// checkAddress accepts https URLs with a ca_file, and http ones on
// loopback only. The system roots are never trusted for Vault: any public
// CA could then issue a certificate for the Vault's name, and whoever holds
// it would receive the token and every share sealed or opened.
func checkAddress(addr, caFile string) error {
	if addr == "" {
		return errors.New("required (for example https://vault.example:8200)")
	}
	u, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("%q: %v", addr, err)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must be scheme://host:port, nothing more", addr)
	}
	switch u.Scheme {
	case "https":
		if caFile == "" {
			return fmt.Errorf("%q: ca_file is required with https (the CA that issued Vault's certificate; the system roots are never trusted)", addr)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%q: plain http is allowed on a loopback address only (the token would cross the network in the clear); use https", addr)
		}
		if caFile != "" {
			return fmt.Errorf("%q is plain http but ca_file is set; use https", addr)
		}
	default:
		return fmt.Errorf("%q: scheme must be https (or http on loopback)", addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
