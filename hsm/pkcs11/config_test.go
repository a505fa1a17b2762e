package pkcs11

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	base := Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "coffer-node1", PINFile: "/etc/coffer/pin"}
	tests := []struct {
		name string
		edit func(c *Config)
		want []string // every problem reported; none for ok/
	}{
		{"ok/minimal", func(*Config) {}, nil},
		{"ok/pin-env", func(c *Config) { c.PINFile, c.PINEnv = "", "COFFER_HSM_PIN" }, nil},
		{"ok/all-fields", func(c *Config) {
			c.SealKeyLabel, c.IdentityKeyLabel, c.Sessions = "s", "i", MaxSessions
		}, nil},
		{"ok/label-32-bytes", func(c *Config) { c.TokenLabel = strings.Repeat("x", 32) }, nil},
		{"fail/empty", func(c *Config) { *c = Config{} }, []string{"module: required", "token_label: required", "one is required"}},
		{"fail/relative-module", func(c *Config) { c.Module = "libsofthsm2.so" }, []string{"absolute path"}},
		{"fail/label-33-bytes", func(c *Config) { c.TokenLabel = strings.Repeat("x", 33) }, []string{"longer than 32"}},
		{"fail/label-spaces", func(c *Config) { c.TokenLabel = "node1 " }, []string{"token_label", "spaces"}},
		{"fail/both-pins", func(c *Config) { c.PINEnv = "PIN" }, []string{"set only one"}},
		{"fail/bad-env-name", func(c *Config) { c.PINFile, c.PINEnv = "", "1PIN=x" }, []string{"not an environment variable name"}},
		{"fail/same-labels", func(c *Config) { c.SealKeyLabel, c.IdentityKeyLabel = "k", "k" }, []string{"must differ"}},
		{"fail/default-label-reused", func(c *Config) { c.SealKeyLabel = DefaultIdentityKeyLabel }, []string{"must differ"}},
		{"fail/key-label-spaces", func(c *Config) { c.SealKeyLabel = " s" }, []string{"seal_key_label"}},
		{"fail/sessions", func(c *Config) { c.Sessions = MaxSessions + 1 }, []string{"sessions: 65"}},
		{"fail/negative-sessions", func(c *Config) { c.Sessions = -1 }, []string{"sessions: -1"}},
		{"fail/everything", func(c *Config) {
			*c = Config{Module: "rel.so", TokenLabel: " t", PINEnv: "a-b", SealKeyLabel: "x", IdentityKeyLabel: "x", Sessions: -3}
		}, []string{"module:", "token_label:", "pin_env:", "must differ", "sessions:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted the config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to mention %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tc.want) && tc.name == "fail/everything" {
				t.Errorf("err reports %d problems, want %d: %q", n, len(tc.want), err)
			}
		})
	}
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Config
		errHas     string
	}{
		{"ok/defaults", "module: /usr/lib/softhsm/libsofthsm2.so\ntoken_label: node1\npin_env: PIN\n",
			Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "node1", PINEnv: "PIN",
				SealKeyLabel: DefaultSealKeyLabel, IdentityKeyLabel: DefaultIdentityKeyLabel, Sessions: DefaultSessions}, ""},
		{"fail/pin-literal", "module: /m.so\ntoken_label: node1\npin: 123456\n", Config{}, "field pin not found"},
		{"fail/unknown-field", "module: /m.so\ntoken_label: node1\npin_file: /p\nslot: 3\n", Config{}, "field slot not found"},
		{"fail/invalid", "module: m.so\ntoken_label: node1\npin_file: /p\n", Config{}, "absolute path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeConfig(strings.NewReader(tc.yaml))
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.errHas)
				}
				if strings.Contains(err.Error(), "123456") {
					t.Fatalf("err repeats the PIN literal: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeConfig: %v", err)
			}
			if got != tc.want {
				t.Fatalf("DecodeConfig = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := newSecret("1234-super-secret")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "pin", s)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "pin", s)
	buf.WriteString(fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s))
	buf.WriteString(fmt.Sprint(s, []secret{s}, struct{ P secret }{s}))
	if strings.Contains(buf.String(), "super-secret") || strings.Contains(buf.String(), "73757065") {
		t.Fatalf("secret leaked: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "REDACTED") {
		t.Fatalf("no REDACTED in %s", buf.String())
	}
}
