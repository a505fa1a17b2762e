package pkcs11

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenErrors(t *testing.T) {
	const wrongPIN = "wrong-pin-31415926"
	tests := []struct {
		name    string
		edit    func(t *testing.T, c *Config)
		want    error    // nil: Open succeeds
		mention []string // the error names these
	}{
		{"ok/pin-file", func(*testing.T, *Config) {}, nil, nil},
		{"ok/pin-file-crlf", func(t *testing.T, c *Config) {
			c.PINFile = writeFile(t, "pin", env.pin+"\r\n")
		}, nil, nil},
		{"ok/pin-env", func(t *testing.T, c *Config) {
			t.Setenv("COFFER_TEST_PIN", env.pin)
			c.PINFile, c.PINEnv = "", "COFFER_TEST_PIN"
		}, nil, nil},
		{"fail/wrong-pin", func(t *testing.T, c *Config) {
			c.PINFile = writeFile(t, "pin", wrongPIN)
		}, hsm.ErrLogin, []string{`"errors"`, "CKR_PIN_INCORRECT"}},
		{"fail/missing-token", func(t *testing.T, c *Config) {
			c.TokenLabel = "no-such-token"
		}, hsm.ErrTokenNotFound, []string{`"no-such-token"`}},
		{"fail/missing-seal-key", func(t *testing.T, c *Config) {
			c.SealKeyLabel = "absent-seal"
		}, hsm.ErrKeyNotFound, []string{`seal key "absent-seal"`, `"errors"`}},
		{"fail/missing-identity-key", func(t *testing.T, c *Config) {
			c.IdentityKeyLabel = "absent-node"
		}, hsm.ErrKeyNotFound, []string{`identity private key "absent-node"`, `"errors"`}},
		{"fail/identity-label-on-seal-key", func(t *testing.T, c *Config) {
			c.SealKeyLabel, c.IdentityKeyLabel = DefaultIdentityKeyLabel, DefaultSealKeyLabel
		}, hsm.ErrKeyNotFound, []string{`seal key "coffer-node"`}},
		{"fail/extractable-seal-key", func(t *testing.T, c *Config) {
			c.SealKeyLabel = labelExtractable
		}, hsm.ErrKeyPolicy, []string{labelExtractable, "CKA_SENSITIVE"}},
		{"fail/aes128-seal-key", func(t *testing.T, c *Config) {
			c.SealKeyLabel = labelAES128
		}, hsm.ErrKeyPolicy, []string{labelAES128, "CKA_VALUE_LEN"}},
		{"fail/mismatched-identity-pair", func(t *testing.T, c *Config) {
			c.IdentityKeyLabel = labelMismatched
		}, hsm.ErrKeyPolicy, []string{labelMismatched, "does not verify"}},
		{"fail/pin-file-missing", func(t *testing.T, c *Config) {
			c.PINFile = filepath.Join(t.TempDir(), "absent.pin")
		}, fs.ErrNotExist, []string{"absent.pin"}},
		{"fail/pin-file-empty", func(t *testing.T, c *Config) {
			c.PINFile = writeFile(t, "empty.pin", "\n")
		}, errEmptyPIN, []string{"empty.pin"}},
		{"fail/pin-env-unset", func(t *testing.T, c *Config) {
			c.PINFile, c.PINEnv = "", "COFFER_TEST_UNSET_PIN"
		}, nil, []string{"COFFER_TEST_UNSET_PIN", "not set"}},
		{"fail/pin-env-empty", func(t *testing.T, c *Config) {
			t.Setenv("COFFER_TEST_EMPTY_PIN", "")
			c.PINFile, c.PINEnv = "", "COFFER_TEST_EMPTY_PIN"
		}, errEmptyPIN, []string{"COFFER_TEST_EMPTY_PIN"}},
		{"fail/module-missing", func(t *testing.T, c *Config) {
			c.Module = "/nonexistent/libpkcs11.so"
		}, fs.ErrNotExist, []string{"/nonexistent/libpkcs11.so"}},
		{"fail/module-not-a-library", func(t *testing.T, c *Config) {
			c.Module = writeFile(t, "lib.so", "not a library")
		}, nil, []string{"lib.so", "not a loadable PKCS#11 library"}},
		{"fail/invalid-config", func(t *testing.T, c *Config) {
			c.Module, c.TokenLabel = "libsofthsm2.so", ""
		}, nil, []string{"module:", "token_label:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(tokErrs)
			tc.edit(t, &cfg)
			k, err := Open(cfg, testLogger(t))
			ok := strings.HasPrefix(tc.name, "ok/")
			if ok {
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
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to mention %q", err, m)
				}
			}
			for _, pin := range []string{env.pin, env.soPIN, wrongPIN} {
				if strings.Contains(err.Error(), pin) {
					t.Errorf("err contains a PIN: %q", err)
				}
			}
		})
	}
	if len(modules.loaded) != 0 {
		t.Errorf("%d modules still loaded after every keystore was closed", len(modules.loaded))
	}
}

// TestPINVariableUnset: a PIN read from the environment leaves it at
// once, so no child process inherits it; a second Open in the process
// still logs in.
func TestPINVariableUnset(t *testing.T) {
	const name = "COFFER_TEST_PIN_UNSET"
	t.Setenv(name, env.pin)
	cfg := testConfig(tokErrs)
	cfg.PINFile, cfg.PINEnv = "", name
	for i := range 2 {
		k, err := Open(cfg, testLogger(t))
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if _, set := os.LookupEnv(name); set {
			t.Fatalf("%s is still in the environment after Open", name)
		}
	}
}
