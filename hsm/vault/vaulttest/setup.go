package vaulttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/vault/api"
)

// EnableTransit mounts a transit secrets engine at path.
func (s *Server) EnableTransit(ctx context.Context, path string) error {
	return s.mount(ctx, path, &mountInput{Type: "transit"})
}

// EnableKV2 mounts a KV version 2 secrets engine at path.
func (s *Server) EnableKV2(ctx context.Context, path string) error {
	return s.mount(ctx, path, &mountInput{Type: "kv", Options: map[string]string{"version": "2"}})
}

type mountInput struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

func (s *Server) mount(ctx context.Context, path string, in *mountInput) error {
	if _, err := s.root.Logical().WriteWithContext(ctx, "sys/mounts/"+path, map[string]any{"type": in.Type, "options": in.Options}); err != nil {
		return fmt.Errorf("mount %s at %s: %w", in.Type, path, err)
	}
	return nil
}

// PutPolicy writes an ACL policy.
func (s *Server) PutPolicy(ctx context.Context, name, hcl string) error {
	if err := s.root.Sys().PutPolicyWithContext(ctx, name, hcl); err != nil {
		return fmt.Errorf("put policy %s: %w", name, err)
	}
	return nil
}

// Token creates a token with the given policies (and the default policy).
func (s *Server) Token(ctx context.Context, policies ...string) (string, error) {
	sec, err := s.root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: policies, TTL: "2h"})
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return sec.Auth.ClientToken, nil
}

// AppRole enables the AppRole auth method at mount (once), writes role with
// the policies and token TTL, and returns a role ID and a fresh secret ID.
func (s *Server) AppRole(ctx context.Context, mount, role, tokenTTL string, policies ...string) (roleID, secretID string, err error) {
	auths, err := s.root.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return "", "", fmt.Errorf("list auth methods: %w", err)
	}
	if _, ok := auths[mount+"/"]; !ok {
		if err := s.root.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &api.EnableAuthOptions{Type: "approle"}); err != nil {
			return "", "", fmt.Errorf("enable approle at %s: %w", mount, err)
		}
	}
	base := "auth/" + mount + "/role/" + role
	if _, err := s.root.Logical().WriteWithContext(ctx, base, map[string]any{
		"token_policies": policies, "token_ttl": tokenTTL, "token_max_ttl": "24h",
	}); err != nil {
		return "", "", fmt.Errorf("write approle role %s: %w", role, err)
	}
	r, err := s.root.Logical().ReadWithContext(ctx, base+"/role-id")
	if err != nil || r == nil {
		return "", "", fmt.Errorf("read role ID of %s: %v", role, err)
	}
	w, err := s.root.Logical().WriteWithContext(ctx, base+"/secret-id", nil)
	if err != nil || w == nil {
		return "", "", fmt.Errorf("create secret ID of %s: %v", role, err)
	}
	return r.Data["role_id"].(string), w.Data["secret_id"].(string), nil
}

// Seal seals the server (sys/seal); it stays sealed until Stop.
func (s *Server) Seal(ctx context.Context) error {
	if err := s.root.Sys().SealWithContext(ctx); err != nil {
		return fmt.Errorf("seal vault: %w", err)
	}
	return nil
}

// WriteSecret writes value to dir/name with mode 0600 and returns the path,
// for configs that name a token or secret ID file.
func WriteSecret(dir, name, value string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(value+"\n"), 0o600)
}
