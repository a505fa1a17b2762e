package vault

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeConfig(t *testing.T) {
	const base = `
address: https://vault.example:8200
ca_file: /etc/coffer/vault-ca.pem
auth:
  token_file: /etc/coffer/vault.token
`
	tests := []struct {
		name string
		yaml string
		want []string // every one must be named; nil: valid
	}{
		{"ok/token file, defaults", base, nil},
		{"ok/token env", "address: https://v:8200\nca_file: /ca.pem\nauth: {token_env: COFFER_VAULT_TOKEN}\n", nil},
		{"ok/approle", "address: https://v:8200\nca_file: /ca.pem\nmount: kms/transit\nseal_key: s\nidentity_key: i\ntimeout: 3s\n" +
			"auth:\n  approle: {role_id_file: /r, secret_id_env: SECRET_ID}\n", nil},
		{"ok/http on loopback", "address: http://127.0.0.1:8200\nauth: {token_env: T}\n", nil},
		{"ok/http on 127.0.0.0/8", "address: http://127.3.4.5:8200\nauth: {token_env: T}\n", nil},
		{"ok/http on ::1", "address: 'http://[::1]:8200'\nauth: {token_env: T}\n", nil},
		{"ok/http on localhost", "address: http://localhost:8200\nauth: {token_env: T}\n", nil},
		{"fail/https without ca_file (no system roots)", "address: https://v:8200\nauth: {token_env: T}\n", []string{"ca_file is required", "system roots"}},
		{"fail/http on a private address", "address: http://10.0.0.1:8200\nauth: {token_env: T}\n", []string{"loopback"}},
		{"fail/http on a name that starts like loopback", "address: http://127.0.0.1.nip.io:8200\nauth: {token_env: T}\n", []string{"loopback"}},
		{"fail/http on every interface", "address: http://0.0.0.0:8200\nauth: {token_env: T}\n", []string{"loopback"}},
		{"fail/literal token", "address: https://v:8200\nauth: {token: s.abc}\n", []string{"token"}},
		{"fail/unknown field", base + "namespace: x\n", []string{"namespace"}},
		{"fail/no address", "auth: {token_env: T}\n", []string{"address: required"}},
		{"fail/http off loopback", "address: http://vault.example:8200\nauth: {token_env: T}\n", []string{"loopback"}},
		{"fail/scheme", "address: ftp://v:8200\nauth: {token_env: T}\n", []string{"scheme"}},
		{"fail/address with path", "address: https://v:8200/v1\nauth: {token_env: T}\n", []string{"nothing more"}},
		{"fail/no auth", "address: https://v:8200\n", []string{"auth: one of"}},
		{"fail/two auths", "address: https://v:8200\nauth: {token_env: T, token_file: /t}\n", []string{"only one"}},
		{"fail/bad env name", "address: https://v:8200\nauth: {token_env: 'A-B'}\n", []string{"token_env"}},
		{"fail/approle without secret id", "address: https://v:8200\nauth:\n  approle: {role_id_env: R}\n",
			[]string{"secret_id_file, auth.approle.secret_id_env: one is required"}},
		{"fail/approle both role refs", "address: https://v:8200\nauth:\n  approle: {role_id_env: R, role_id_file: /r, secret_id_env: S}\n",
			[]string{"role_id_file, auth.approle.role_id_env: set only one"}},
		{"fail/same key names", base + "seal_key: k\nidentity_key: k\n", []string{"must differ"}},
		{"fail/bad key name", base + "seal_key: 'a/b'\n", []string{"seal_key"}},
		{"fail/bad mount", base + "mount: /transit/\n", []string{"mount"}},
		{"fail/timeout", base + "timeout: 1ms\n", []string{"timeout"}},
		{"fail/every problem at once", "address: http://10.0.0.1:8200\nmount: '../x'\ntimeout: 1h\n",
			[]string{"address", "mount", "timeout", "auth"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := DecodeConfig(strings.NewReader(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("DecodeConfig: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := DecodeConfig(strings.NewReader("address: https://v:8200\nca_file: /ca.pem\nauth:\n  approle: {role_id_env: R, secret_id_env: S}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mount != DefaultMount || cfg.SealKey != DefaultSealKey || cfg.IdentityKey != DefaultIdentityKey ||
		cfg.Timeout != DefaultTimeout || cfg.Auth.AppRole.Mount != DefaultAppRoleMount {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	if _, err := DecodeConnection(strings.NewReader("address: https://v:8200\nca_file: /ca.pem\nauth: {token_env: T}\nmount: x\n")); err == nil {
		t.Fatal("DecodeConnection accepted a keystore field")
	}
	if _, err := DecodeConnection(strings.NewReader("address: https://v:8200\nauth: {token_env: T}\n")); err == nil || !strings.Contains(err.Error(), "ca_file is required") {
		t.Fatalf("DecodeConnection without ca_file: %v", err)
	}
	if c, err := DecodeConnection(strings.NewReader("address: https://v:8200\nca_file: /ca.pem\nauth: {token_env: T}\ntimeout: 2s\n")); err != nil || c.Timeout != 2*time.Second {
		t.Fatalf("DecodeConnection = %+v, %v", c, err)
	}
}

func TestNodePolicy(t *testing.T) {
	p := NodePolicy(Config{Mount: "kms", SealKey: "s1", IdentityKey: "n1"})
	for _, want := range []string{`path "kms/keys/s1"`, `path "kms/encrypt/s1"`, `path "kms/decrypt/s1"`, `path "kms/sign/n1"`} {
		if !strings.Contains(p, want) {
			t.Errorf("policy lacks %s:\n%s", want, p)
		}
	}
	if strings.Contains(p, `"create"`) || strings.Contains(p, "export") || strings.Contains(p, "*") || strings.Contains(p, "sys/audit/") {
		t.Errorf("policy grants more than a node needs:\n%s", p)
	}
	if !strings.Contains(p, "path \"sys/audit\" {\n  capabilities = [\"read\", \"sudo\"]") {
		t.Errorf("policy does not let the node list the audit devices:\n%s", p)
	}
}

func TestTrustDomain(t *testing.T) {
	tests := []struct{ a, b string }{
		{"https://vault.example:8200", "https://VAULT.example:8200/"},
		{"https://vault.example", "https://vault.example:443"},
		{"http://127.0.0.1", "http://127.0.0.1:80"},
		{"http://[::1]:8200", "http://[::1]:8200/"},
	}
	for _, tc := range tests {
		da, err1 := TrustDomain(tc.a)
		db, err2 := TrustDomain(tc.b)
		if err1 != nil || err2 != nil || da != db {
			t.Errorf("ok/%s and %s: %q, %q (%v, %v), want one domain", tc.a, tc.b, da, db, err1, err2)
		}
	}
	for _, pair := range [][2]string{
		{"https://vault-a:8200", "https://vault-b:8200"},
		{"https://vault-a:8200", "https://vault-a:8201"},
		{"https://vault-a:8200", "http://vault-a:8200"},
	} {
		da, _ := TrustDomain(pair[0])
		db, _ := TrustDomain(pair[1])
		if da == db {
			t.Errorf("ok/%s and %s are one domain %q, want two", pair[0], pair[1], da)
		}
	}
	for _, bad := range []string{"", "vault:8200", "ftp://v:21", "https://"} {
		if d, err := TrustDomain(bad); err == nil {
			t.Errorf("fail/%q: accepted as %q", bad, d)
		}
	}
}
