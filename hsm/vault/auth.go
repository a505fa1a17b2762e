package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/cofferhq/coffer/hsm"
)

// login obtains the client's token: the referenced one (checked with
// lookup-self), or a fresh one from AppRole.
func (c *Client) login(ctx context.Context) error {
	a := c.conn.Auth
	if a.AppRole == nil {
		c.auth = "token file " + a.TokenFile
		if a.TokenEnv != "" {
			c.auth = "environment variable " + a.TokenEnv
		}
		tok, err := readSecret("vault token", a.TokenFile, a.TokenEnv, c.log)
		if err != nil {
			return err
		}
		c.api.SetToken(tok.reveal())
		return c.checkToken(ctx)
	}
	c.auth = "AppRole login at auth/" + a.AppRole.Mount
	return c.loginAppRole(ctx)
}

// checkToken looks the token up: a refused token fails here, at start,
// with hsm.ErrLogin rather than later with a confusing permission error.
func (c *Client) checkToken(ctx context.Context) error {
	s, err := c.do(ctx, request{method: http.MethodGet, path: "auth/token/lookup-self", capability: `"read"`, mount: "auth/token"})
	var pe *PermissionError
	if errors.As(err, &pe) {
		// A valid token may call lookup-self (the default policy allows it);
		// Vault answers 403 alike for a token it does not know.
		return fmt.Errorf("%w: vault at %s refused the token from %s: invalid, expired or revoked (or its policies lack the default policy)", hsm.ErrLogin, c.conn.Address, c.auth)
	}
	if err != nil {
		return fmt.Errorf("look up token: %w", err)
	}
	if s != nil {
		ttl, _ := s.TokenTTL()
		policies, _ := s.TokenPolicies()
		c.log.Info("vault token accepted", "auth", c.auth, "ttl", ttl.String(), "policies", policies)
		if ttl > 0 {
			c.log.Warn("vault token expires; use a periodic token renewed by Vault Agent, or AppRole", "auth", c.auth, "ttl", ttl.String())
		}
	}
	return nil
}

// loginAppRole logs in with the role and secret IDs and schedules the next
// login at two thirds of the token's lifetime.
func (c *Client) loginAppRole(ctx context.Context) error {
	r := c.conn.Auth.AppRole
	roleID, err := readSecret("AppRole role ID", r.RoleIDFile, r.RoleIDEnv, c.log)
	if err != nil {
		return err
	}
	secretID, err := readSecret("AppRole secret ID", r.SecretIDFile, r.SecretIDEnv, c.log)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"role_id": roleID.reveal(), "secret_id": secretID.reveal()})
	if err != nil {
		return err
	}
	path := "auth/" + r.Mount + "/login"
	// Log in on a clone without a token, so requests running meanwhile
	// keep the current one until the new one is set.
	anon, err := c.api.Clone()
	if err != nil {
		return fmt.Errorf("log in with AppRole: %w", err)
	}
	sanitize(anon)
	resp, err := anon.Logical().WriteRawWithContext(ctx, path, body)
	clear(body)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		err = c.classify(ctx, request{method: http.MethodPut, path: path, capability: `"update"`, mount: "auth/" + r.Mount}, err)
		if errors.Is(err, ErrRejected) || errors.Is(err, ErrPermissionDenied) {
			return fmt.Errorf("%w: vault at %s refused the AppRole role ID or secret ID (%s): %v", hsm.ErrLogin, c.conn.Address, c.auth, err)
		}
		return fmt.Errorf("log in with AppRole: %w", err)
	}
	s, err := api.ParseSecret(resp.Body)
	if err != nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("log in with AppRole at %s: no token in the answer (%v)", path, err)
	}
	c.api.SetToken(s.Auth.ClientToken)
	c.renewAt = time.Time{}
	if ttl := time.Duration(s.Auth.LeaseDuration) * time.Second; ttl > 0 {
		c.renewAt = time.Now().Add(ttl * 2 / 3)
	}
	c.log.Info("vault AppRole login", "mount", r.Mount, "ttl", time.Duration(s.Auth.LeaseDuration)*time.Second, "policies", s.Auth.Policies)
	return nil
}

// refresh logs in again with AppRole once the token nears its expiry.
func (c *Client) refresh(ctx context.Context) error {
	if c.conn.Auth.AppRole == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.renewAt.IsZero() || time.Now().Before(c.renewAt) {
		return nil
	}
	if err := c.loginAppRole(ctx); err != nil {
		return fmt.Errorf("renew AppRole token: %w", err)
	}
	return nil
}

// Close revokes the token of an AppRole login (a given token is the
// operator's and is left alone). It does not close the HTTP transport's
// idle connections of other clients.
func (c *Client) Close(ctx context.Context) error {
	if c.conn.Auth.AppRole == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.api.Logical().WriteRawWithContext(ctx, "auth/token/revoke-self", nil)
	c.api.ClearToken()
	if err != nil {
		return fmt.Errorf("revoke AppRole token at %s: %w", c.conn.Address, c.classify(ctx, request{method: http.MethodPut, path: "auth/token/revoke-self", capability: `"update"`}, err))
	}
	return nil
}
