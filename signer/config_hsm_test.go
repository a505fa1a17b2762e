package signer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/hsm/vault"
)

func TestVaultExampleConfigIsValid(t *testing.T) {
	cfg, err := LoadConfig("../configs/node.vault.example.yaml")
	if err != nil {
		t.Fatalf("configs/node.vault.example.yaml: %v", err)
	}
	v := cfg.HSM.Vault
	if cfg.HSM.Backend != BackendVault || v.Auth.AppRole == nil || v.Auth.AppRole.RoleIDFile != "/etc/coffer/node1.role-id" ||
		v.SealKey != "coffer-seal-node1" || v.Timeout != vault.DefaultTimeout {
		t.Fatalf("unexpected example: %+v", cfg.HSM)
	}
	if !strings.Contains(cfg.HSM.Describe(), "https://vault.internal:8200") {
		t.Fatalf("Describe = %q", cfg.HSM.Describe())
	}
}

func TestHSMBackendValidation(t *testing.T) {
	base, err := os.ReadFile("../configs/node.vault.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pkcs11Base, err := os.ReadFile("../configs/node.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc, from, to string
		want                []string // nil: valid
	}{
		{"ok/vault", string(base), "", "", nil},
		{"ok/vault token env", string(base), "      approle:\n        mount: approle\n        role_id_file: /etc/coffer/node1.role-id\n        secret_id_file: /etc/coffer/node1.secret-id   # or secret_id_env\n",
			"      token_env: COFFER_VAULT_TOKEN\n", nil},
		{"ok/pkcs11 unchanged", string(pkcs11Base), "", "", nil},
		{"fail/unknown backend", string(base), "backend: vault", "backend: kms", []string{`hsm.backend: "kms"`}},
		{"fail/inline token", string(base), "      approle:", "      token: hvs.abc\n      approle:", []string{"token"}},
		{"fail/vault section invalid", string(base), "address: https://vault.internal:8200", "address: http://vault.internal:8200",
			[]string{"hsm.vault:", "loopback"}},
		{"fail/pkcs11 section with vault backend", string(base), "  vault:\n", "  pkcs11:\n    token_label: x\n  vault:\n",
			[]string{"hsm.pkcs11: given, but hsm.backend is vault"}},
		{"fail/vault section with pkcs11 backend", string(pkcs11Base), "  pkcs11:\n", "  vault:\n    mount: transit\n  pkcs11:\n",
			[]string{"hsm.vault: given, but hsm.backend is pkcs11"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			if tc.from != "" {
				if !strings.Contains(doc, tc.from) {
					t.Fatalf("example lacks %q", tc.from)
				}
				doc = strings.Replace(doc, tc.from, tc.to, 1)
			}
			cfg, err := DecodeConfig(strings.NewReader(doc))
			if err == nil {
				err = cfg.Validate()
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestVaultPathsResolvedAgainstConfigDir(t *testing.T) {
	dir := t.TempDir()
	doc := `node: n1
cluster: c
hsm:
  backend: vault
  vault:
    address: https://v:8200
    ca_file: vault-ca.pem
    auth:
      approle: {role_id_file: role, secret_id_file: sub/secret}
`
	p := filepath.Join(dir, "cofferd.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfigForHSM(p)
	if err != nil {
		t.Fatalf("LoadConfigForHSM: %v", err)
	}
	v := cfg.HSM.Vault
	if v.CAFile != filepath.Join(dir, "vault-ca.pem") || v.Auth.AppRole.RoleIDFile != filepath.Join(dir, "role") ||
		v.Auth.AppRole.SecretIDFile != filepath.Join(dir, "sub", "secret") {
		t.Fatalf("paths not resolved: %+v %+v", v, v.Auth.AppRole)
	}
}
