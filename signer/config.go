package signer

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/signer/connlimit"
)

// Config is one node's configuration (configs/node.example.yaml documents
// every field). Secrets are never inline: the HSM PIN, or the Vault token
// or AppRole IDs, are read from a file or an environment variable the
// config names.
type Config struct {
	Node    string `yaml:"node"`
	Cluster string `yaml:"cluster"`
	Listen  struct {
		Peer string `yaml:"peer"`
		API  string `yaml:"api"`
		Raft string `yaml:"raft"`
		// Limits bound each source IP address on every listener:
		// concurrent connections and new connections (handshakes) per
		// second; zero fields take connlimit's defaults.
		Limits connlimit.Config `yaml:"limits,omitempty"`
	} `yaml:"listen"`
	TLS struct {
		CA string `yaml:"ca"`
		// Cert is the node's identity certificate: its key is the HSM
		// identity key, which endorses the node's software TLS keys.
		Cert string `yaml:"cert"`
		// Revoked lists certificates the CA issued that this node refuses
		// on every call (clients) and connection (peers); reloaded on SIGHUP.
		Revoked RevokedConfig `yaml:"revoked,omitempty"`
	} `yaml:"tls"`
	HSM   HSMConfig `yaml:"hsm"`
	Store struct {
		Path string `yaml:"path"`
		// RaftDir holds the replicated log and its snapshots (default: the
		// folder "raft" beside the store file).
		RaftDir string `yaml:"raft_dir"`
	} `yaml:"store"`
	// Replication tunes the raft timing (defaults suit one machine or LAN).
	Replication struct {
		HeartbeatTimeout Duration `yaml:"heartbeat_timeout"`
		CommitTimeout    Duration `yaml:"commit_timeout"`
		SnapshotEvery    uint64   `yaml:"snapshot_every"`
	} `yaml:"replication"`
	PreParams struct {
		PoolSize    int  `yaml:"pool_size"`
		Generate    bool `yaml:"generate"`
		Concurrency int  `yaml:"concurrency"`
	} `yaml:"preparams"`
	Sessions struct {
		Timeout    Duration `yaml:"timeout"`
		MaxTimeout Duration `yaml:"max_timeout"`
	} `yaml:"sessions"`
	// Policy is the signed genesis policy this node starts with: the YAML
	// document and the admins' detached signatures (a quorum is required).
	Policy struct {
		File       string   `yaml:"file"`
		Signatures []string `yaml:"signatures"`
	} `yaml:"policy"`
	SelfTestSigning bool `yaml:"selftest_signing"`
	// MinThreshold is the smallest t of the cluster's keys (t+1 nodes
	// sign; default 1): at most that many members may keep their keys in
	// one Vault (members[].vault; config_vault.go).
	MinThreshold int            `yaml:"min_threshold,omitempty"`
	Members      []MemberConfig `yaml:"members"`
	Log          struct {
		Level string `yaml:"level"`
	} `yaml:"log"`
}

// HSM backends a node may use; a cluster may mix them.
const (
	BackendPKCS11 = "pkcs11"
	BackendVault  = "vault"
)

// HSMConfig chooses the node's keystore backend and configures it: a
// PKCS#11 token, or Vault's transit engine. Only the chosen backend's
// section may be given.
type HSMConfig struct {
	// Backend is "pkcs11" (the default) or "vault".
	Backend string `yaml:"backend"`
	// SoftHSM2Conf, for development only, sets SOFTHSM2_CONF for this
	// process before the module loads.
	SoftHSM2Conf string        `yaml:"softhsm2_conf,omitempty"`
	PKCS11       pkcs11.Config `yaml:"pkcs11,omitempty"`
	Vault        vault.Config  `yaml:"vault,omitempty"`
}

func (h *HSMConfig) defaults() {
	if h.Backend == "" {
		h.Backend = BackendPKCS11
	}
	switch h.Backend {
	case BackendPKCS11:
		h.PKCS11 = h.PKCS11.WithDefaults()
	case BackendVault:
		h.Vault = h.Vault.WithDefaults()
	}
}

func (h *HSMConfig) resolve(abs func(*string)) {
	abs(&h.SoftHSM2Conf)
	abs(&h.PKCS11.PINFile)
	abs(&h.Vault.CAFile)
	abs(&h.Vault.Auth.TokenFile)
	if r := h.Vault.Auth.AppRole; r != nil {
		abs(&r.RoleIDFile)
		abs(&r.SecretIDFile)
	}
}

// Validate checks the chosen backend's section and that the other one is
// absent.
func (h HSMConfig) Validate() error {
	var errs []error
	switch h.Backend {
	case BackendPKCS11:
		if err := h.PKCS11.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("hsm.pkcs11: %w", err))
		}
		if h.Vault != (vault.Config{}) {
			errs = append(errs, errors.New("hsm.vault: given, but hsm.backend is pkcs11"))
		}
	case BackendVault:
		if err := h.Vault.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("hsm.vault: %w", err))
		}
		if h.PKCS11 != (pkcs11.Config{}) {
			errs = append(errs, errors.New("hsm.pkcs11: given, but hsm.backend is vault"))
		}
	default:
		errs = append(errs, fmt.Errorf("hsm.backend: %q is not supported (pkcs11, vault)", h.Backend))
	}
	return errors.Join(errs...)
}

// Describe names where the node's keys live, for messages.
func (h HSMConfig) Describe() string {
	if h.Backend == BackendVault {
		return fmt.Sprintf("vault transit mount %q at %s", h.Vault.Mount, h.Vault.Address)
	}
	return fmt.Sprintf("token %q", h.PKCS11.TokenLabel)
}

// MemberConfig names one cluster node (this one included).
type MemberConfig struct {
	ID          string `yaml:"id"`
	Peer        string `yaml:"peer"`
	API         string `yaml:"api"`
	Raft        string `yaml:"raft"`         // its raft listener (mutual TLS)
	IdentityKey string `yaml:"identity_key"` // hex Ed25519 public key
	// Vault is the address of the Vault that holds the member's keys,
	// empty for a member on an HSM. Nodes count the members per Vault
	// (config_vault.go); a node on Vault must declare its own.
	Vault string `yaml:"vault,omitempty"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// LoadConfig reads a config file strictly (unknown fields are errors),
// resolves relative paths against the file's folder, applies defaults and
// validates.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.resolve(filepath.Dir(path))
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// LoadConfigForHSM reads a config for `cofferd hsm init`: only the HSM
// section must be complete, since the members list cannot name the
// identity key before it exists.
func LoadConfigForHSM(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.resolve(filepath.Dir(path))
	if err := cfg.HSM.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// DecodeConfig decodes YAML strictly and applies defaults.
func DecodeConfig(r io.Reader) (*Config, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("decode: more than one YAML document")
	}
	cfg.defaults()
	return &cfg, nil
}

func (c *Config) defaults() {
	c.HSM.defaults()
	c.Listen.Limits = c.Listen.Limits.WithDefaults()
	if c.Sessions.Timeout == 0 {
		c.Sessions.Timeout = Duration(2 * time.Minute)
	}
	if c.Sessions.MaxTimeout == 0 {
		c.Sessions.MaxTimeout = Duration(10 * time.Minute)
	}
	if c.PreParams.Concurrency == 0 {
		c.PreParams.Concurrency = 1
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.MinThreshold == 0 {
		c.MinThreshold = DefaultMinThreshold
	}
}

func (c *Config) resolve(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.TLS.CA)
	abs(&c.TLS.Cert)
	abs(&c.Store.Path)
	abs(&c.Store.RaftDir)
	if c.Store.RaftDir == "" && c.Store.Path != "" {
		c.Store.RaftDir = filepath.Join(filepath.Dir(c.Store.Path), "raft")
	}
	c.HSM.resolve(abs)
	abs(&c.Policy.File)
	for i := range c.Policy.Signatures {
		abs(&c.Policy.Signatures[i])
	}
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Node == "" {
		bad("node: required")
	}
	if c.Cluster == "" {
		bad("cluster: required")
	}
	for name, addr := range map[string]string{"listen.peer": c.Listen.Peer, "listen.api": c.Listen.API, "listen.raft": c.Listen.Raft} {
		if err := loopbackOrHost(addr); err != nil {
			bad("%s: %v", name, err)
		}
	}
	if err := c.Listen.Limits.Validate(); err != nil {
		bad("listen.limits: %w", err)
	}
	if c.TLS.CA == "" || c.TLS.Cert == "" {
		bad("tls.ca and tls.cert: required")
	}
	if _, err := c.Revocations(); err != nil {
		errs = append(errs, err)
	}
	if c.Store.Path == "" {
		bad("store.path: required")
	}
	if err := c.HSM.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.PreParams.PoolSize < 0 || c.PreParams.PoolSize > 64 {
		bad("preparams.pool_size: %d is outside 0..64", c.PreParams.PoolSize)
	}
	if c.PreParams.Concurrency < 1 || c.PreParams.Concurrency > 64 {
		bad("preparams.concurrency: %d is outside 1..64", c.PreParams.Concurrency)
	}
	if c.Replication.HeartbeatTimeout < 0 || c.Replication.HeartbeatTimeout > Duration(time.Minute) ||
		c.Replication.CommitTimeout < 0 || c.Replication.CommitTimeout > Duration(time.Second) {
		bad("replication: heartbeat_timeout must be at most 1m and commit_timeout at most 1s")
	}
	if c.Sessions.Timeout <= 0 || c.Sessions.Timeout > c.Sessions.MaxTimeout {
		bad("sessions.timeout: must be positive and at most sessions.max_timeout")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	seen := map[string]bool{}
	self := false
	for i, m := range c.Members {
		if m.ID == "" || seen[m.ID] {
			bad("members[%d]: empty or repeated id %q", i, m.ID)
		}
		seen[m.ID] = true
		self = self || m.ID == c.Node
		if _, err := net.ResolveTCPAddr("tcp", m.Peer); err != nil || m.Peer == "" {
			bad("members[%d] (%s): peer address %q: invalid", i, m.ID, m.Peer)
		}
		if _, err := net.ResolveTCPAddr("tcp", m.Raft); err != nil || m.Raft == "" {
			bad("members[%d] (%s): raft address %q: invalid", i, m.ID, m.Raft)
		}
		if m.ID == c.Node && m.Raft != c.Listen.Raft {
			bad("members[%d] (%s): raft address %q differs from listen.raft %q", i, m.ID, m.Raft, c.Listen.Raft)
		}
		if k, err := hex.DecodeString(m.IdentityKey); err != nil || len(k) != ed25519.PublicKeySize {
			bad("members[%d] (%s): identity_key must be %d hex bytes", i, m.ID, ed25519.PublicKeySize)
		}
	}
	if !self {
		bad("members: this node (%q) is not listed", c.Node)
	}
	if c.Policy.File == "" && len(c.Policy.Signatures) > 0 {
		bad("policy.signatures: given without policy.file")
	}
	errs = append(errs, c.vaultLayoutProblems()...)
	return errors.Join(errs...)
}

func loopbackOrHost(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %v", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		return fmt.Errorf("%q: listen on a named address, not on every interface", addr)
	}
	return nil
}
