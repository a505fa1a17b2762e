package devcluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cofferhq/coffer/hsm/vault"
)

// Files of a Vault node's AppRole credentials, in its folder (mode 0600,
// like a SoftHSM node's PIN: a development cluster only).
const (
	roleIDFile   = "vault-role-id"
	secretIDFile = "vault-secret-id"
)

// grantAppRole gives node id its own credentials on the Vault of cfg
// (logged in as an admin): an ACL policy coffer-node-ID that is
// vault.NodePolicy (its two keys, nothing else), an AppRole role coffer-ID
// with that policy only, and a role ID and secret ID written to ndir. It
// returns the node's Auth, with paths relative to ndir. A node's token so
// reaches its own keys only: one node's credentials do not unseal
// another's shares even on a shared Vault.
func grantAppRole(ctx context.Context, cfg vault.Config, id, ndir string, log *slog.Logger) (vault.Auth, error) {
	c, err := vault.Dial(ctx, cfg.Connection, log)
	if err != nil {
		return vault.Auth{}, fmt.Errorf("grant AppRole: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	policy, role := "coffer-node-"+id, "coffer-"+id
	if _, err := c.Write(ctx, "sys/policies/acl/"+policy, "sys", `"create", "update"`, map[string]any{"policy": vault.NodePolicy(cfg)}); err != nil {
		return vault.Auth{}, fmt.Errorf("write policy %s: %w", policy, err)
	}
	if err := enableAppRole(ctx, c); err != nil {
		return vault.Auth{}, err
	}
	base := "auth/" + vault.DefaultAppRoleMount + "/role/" + role
	mount := "auth/" + vault.DefaultAppRoleMount
	if _, err := c.Write(ctx, base, mount, `"create", "update"`, map[string]any{
		"token_policies": []string{policy}, "token_ttl": "1h", "token_max_ttl": "24h",
		"token_no_default_policy": false, "secret_id_ttl": "0", "secret_id_num_uses": 0,
	}); err != nil {
		return vault.Auth{}, fmt.Errorf("write AppRole role %s: %w", role, err)
	}
	r, err := c.Read(ctx, base+"/role-id", mount)
	if err != nil {
		return vault.Auth{}, fmt.Errorf("read role ID of %s: %w", role, err)
	}
	w, err := c.Write(ctx, base+"/secret-id", mount, `"create", "update"`, map[string]any{})
	if err != nil {
		return vault.Auth{}, fmt.Errorf("create secret ID of %s: %w", role, err)
	}
	roleID, _ := r["role_id"].(string)
	secretID, _ := w["secret_id"].(string)
	if roleID == "" || secretID == "" {
		return vault.Auth{}, fmt.Errorf("AppRole role %s: no role ID or secret ID in Vault's answer", role)
	}
	for name, v := range map[string]string{roleIDFile: roleID, secretIDFile: secretID} {
		if err := os.WriteFile(filepath.Join(ndir, name), []byte(v+"\n"), 0o600); err != nil {
			return vault.Auth{}, err
		}
	}
	return vault.Auth{AppRole: &vault.AppRole{Mount: vault.DefaultAppRoleMount, RoleIDFile: roleIDFile, SecretIDFile: secretIDFile}}, nil
}

// enableAppRole mounts the AppRole auth method at its default path unless
// it is there.
func enableAppRole(ctx context.Context, c *vault.Client) error {
	auths, err := c.Read(ctx, "sys/auth", "sys")
	if err != nil {
		return fmt.Errorf("list auth methods: %w", err)
	}
	if _, ok := auths[vault.DefaultAppRoleMount+"/"]; ok {
		return nil
	}
	_, err = c.Write(ctx, "sys/auth/"+vault.DefaultAppRoleMount, "sys", `"create", "update", "sudo"`, map[string]any{"type": "approle"})
	if err != nil {
		return fmt.Errorf("enable AppRole: %w", err)
	}
	return nil
}
