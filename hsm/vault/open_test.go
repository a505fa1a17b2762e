package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rootWrite writes with the server's root token (test setup).
func rootWrite(t *testing.T, path string, data map[string]any) {
	t.Helper()
	if _, err := env.srv.Root().Logical().Write(path, data); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// policyToken creates a token with an ad-hoc policy and writes it to a file.
func policyToken(t *testing.T, name, hcl string) string {
	t.Helper()
	ctx := context.Background()
	if err := env.srv.PutPolicy(ctx, name, hcl); err != nil {
		t.Fatal(err)
	}
	p, err := tokenFile(ctx, name+".token", name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// closedAddress is an https address on 127.0.0.1 where nothing listens.
func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr
}

// otherCA writes a self-signed CA certificate that did not issue Vault's.
func otherCA(t *testing.T) string {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not vault's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "other-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	const wrongToken = "hvs.wrong-token-31415926535"
	rootFile, err := vaulttest.WriteSecret(t.TempDir(), "root.token", env.srv.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	// Keys that break DESIGN.md §4.
	rootWrite(t, "transit/keys/bad-exportable", map[string]any{"type": "aes256-gcm96", "exportable": true})
	rootWrite(t, "transit/keys/bad-exportable-id", map[string]any{"type": "ed25519", "exportable": true})
	rootWrite(t, "transit/keys/bad-deletable", map[string]any{"type": "aes256-gcm96"})
	rootWrite(t, "transit/keys/bad-deletable/config", map[string]any{"deletion_allowed": true})
	rootWrite(t, "transit/keys/bad-rotated", map[string]any{"type": "aes256-gcm96"})
	rootWrite(t, "transit/keys/bad-rotated/rotate", nil)
	rootWrite(t, "transit/keys/bad-rotated/config", map[string]any{"min_decryption_version": 2})
	noEncrypt := policyToken(t, "no-encrypt", `
path "transit/keys/*"    { capabilities = ["read"] }
path "transit/decrypt/*" { capabilities = ["update"] }
path "transit/sign/*"    { capabilities = ["update"] }`)
	noKeys := policyToken(t, "nothing", `path "secret/*" { capabilities = ["read"] }`)
	roleID, secretID, err := env.srv.AppRole(ctx, "approle", "node", "1h", policyAllKeys)
	if err != nil {
		t.Fatal(err)
	}
	env.secrets = append(env.secrets, secretID)
	roleFile := writeFile(t, "role-id", roleID)

	tests := []struct {
		name    string
		edit    func(t *testing.T, c *Config)
		want    error    // nil: Open succeeds, or no sentinel to check
		mention []string // the error names these
	}{
		{"ok/token file", func(*testing.T, *Config) {}, nil, nil},
		{"ok/token env", func(t *testing.T, c *Config) {
			b, _ := os.ReadFile(env.nodeTokenFile)
			t.Setenv("COFFER_TEST_VAULT_TOKEN", strings.TrimSpace(string(b)))
			c.Auth = Auth{TokenEnv: "COFFER_TEST_VAULT_TOKEN"}
		}, nil, nil},
		{"ok/approle", func(t *testing.T, c *Config) {
			t.Setenv("COFFER_TEST_SECRET_ID", secretID)
			c.Auth = Auth{AppRole: &AppRole{RoleIDFile: roleFile, SecretIDEnv: "COFFER_TEST_SECRET_ID"}}
		}, nil, nil},
		{"fail/unreachable", func(t *testing.T, c *Config) {
			c.Address = closedAddress(t)
			c.Timeout = 2 * time.Second
		}, ErrUnreachable, []string{"127.0.0.1"}},
		{"fail/wrong token", func(t *testing.T, c *Config) {
			c.Auth = Auth{TokenFile: writeFile(t, "wrong.token", wrongToken)}
		}, hsm.ErrLogin, []string{"wrong.token", "invalid, expired or revoked"}},
		{"fail/approle wrong secret id", func(t *testing.T, c *Config) {
			t.Setenv("COFFER_TEST_SECRET_ID", wrongToken)
			c.Auth = Auth{AppRole: &AppRole{RoleIDFile: roleFile, SecretIDEnv: "COFFER_TEST_SECRET_ID"}}
		}, hsm.ErrLogin, []string{"AppRole", "auth/approle"}},
		{"fail/permission denied on encrypt", func(t *testing.T, c *Config) {
			c.Auth = Auth{TokenFile: noEncrypt}
		}, ErrPermissionDenied, []string{`path "transit/encrypt/coffer-seal"`, `"update"`, env.srv.Addr}},
		{"fail/permission denied on the key", func(t *testing.T, c *Config) {
			c.Auth = Auth{TokenFile: noKeys}
		}, ErrPermissionDenied, []string{`path "transit/keys/coffer-seal"`, `"read"`}},
		{"fail/missing seal key", func(t *testing.T, c *Config) {
			c.SealKey = "absent-seal"
		}, hsm.ErrKeyNotFound, []string{`seal key "absent-seal"`, `transit mount "transit"`}},
		{"fail/missing identity key", func(t *testing.T, c *Config) {
			c.IdentityKey = "absent-node"
		}, hsm.ErrKeyNotFound, []string{`identity key "absent-node"`}},
		{"fail/missing mount", func(t *testing.T, c *Config) {
			c.Mount, c.Auth = "no-such-transit", Auth{TokenFile: rootFile}
		}, ErrMountNotFound, []string{`"no-such-transit"`}},
		{"fail/exportable seal key", func(t *testing.T, c *Config) {
			c.SealKey = "bad-exportable"
		}, hsm.ErrKeyPolicy, []string{"bad-exportable", "exportable is true"}},
		{"fail/seal key of the wrong type", func(t *testing.T, c *Config) {
			c.SealKey, c.IdentityKey = DefaultIdentityKey, DefaultSealKey
		}, hsm.ErrKeyPolicy, []string{`seal key "coffer-node"`, `type is "ed25519"`}},
		{"fail/version 1 excluded", func(t *testing.T, c *Config) {
			c.SealKey = "bad-rotated"
		}, hsm.ErrKeyPolicy, []string{"bad-rotated", "min_decryption_version 2"}},
		{"fail/CA that did not issue vault's certificate", func(t *testing.T, c *Config) {
			c.CAFile = otherCA(t)
		}, ErrTLS, []string{"other-ca.pem"}},
		{"fail/https without ca_file: no system roots", func(t *testing.T, c *Config) {
			c.CAFile = ""
		}, nil, []string{"ca_file is required", "system roots are never trusted"}},
		{"fail/deletable seal key", func(t *testing.T, c *Config) {
			c.SealKey = "bad-deletable"
		}, hsm.ErrKeyPolicy, []string{"bad-deletable", "deletion_allowed is true"}},
		{"fail/exportable identity key", func(t *testing.T, c *Config) {
			c.IdentityKey = "bad-exportable-id"
		}, hsm.ErrKeyPolicy, []string{`identity key "bad-exportable-id"`, "exportable is true"}},
		{"fail/token file missing", func(t *testing.T, c *Config) {
			c.Auth = Auth{TokenFile: filepath.Join(t.TempDir(), "absent.token")}
		}, fs.ErrNotExist, []string{"absent.token"}},
		{"fail/token file empty", func(t *testing.T, c *Config) {
			c.Auth = Auth{TokenFile: writeFile(t, "empty.token", "\n")}
		}, errEmptySecret, []string{"empty.token"}},
		{"fail/token env unset", func(t *testing.T, c *Config) {
			c.Auth = Auth{TokenEnv: "COFFER_TEST_UNSET_TOKEN"}
		}, nil, []string{"COFFER_TEST_UNSET_TOKEN", "not set"}},
		{"fail/invalid config", func(t *testing.T, c *Config) {
			c.Address, c.Mount = "", "/"
		}, nil, []string{"address:", "mount:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := nodeConfig(Config{})
			tc.edit(t, &cfg)
			k, err := Open(ctx, cfg, testLogger(t))
			if strings.HasPrefix(tc.name, "ok/") {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if err := k.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				return
			}
			if err == nil {
				k.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("Open: %v", err)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to mention %q", err, m)
				}
			}
			for _, s := range append([]string{wrongToken}, env.secrets...) {
				if strings.Contains(err.Error(), s) {
					t.Errorf("err contains a secret: %q", err)
				}
			}
		})
	}
}

// TestSealedServer opens a keystore over plain http on loopback, then seals
// the server: new opens and running operations fail with ErrSealed.
func TestSealedServer(t *testing.T) {
	ctx := context.Background()
	srv, err := vaulttest.Start(ctx, vaulttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	env.secrets = append(env.secrets, srv.RootToken)
	if err := srv.EnableTransit(ctx, DefaultMount); err != nil {
		t.Fatal(err)
	}
	tokFile, err := vaulttest.WriteSecret(t.TempDir(), "root.token", srv.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Connection: Connection{Address: srv.Addr, Auth: Auth{TokenFile: tokFile}}}.WithDefaults()
	if _, err := Provision(ctx, cfg, testLogger(t)); err != nil {
		t.Fatalf("Provision over http: %v", err)
	}
	k := openTest(t, cfg)
	b, err := k.Seal(ctx, []byte("aad"), []byte("share"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(ctx, []byte("aad"), b); !errors.Is(err, ErrSealed) || errors.Is(err, hsm.ErrUnseal) {
		t.Errorf("Open on a sealed server: %v, want ErrSealed (and not ErrUnseal)", err)
	}
	if _, err := Open(ctx, cfg, testLogger(t)); !errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), srv.Addr) {
		t.Errorf("Open keystore on a sealed server: %v, want ErrSealed naming %s", err, srv.Addr)
	}
}
