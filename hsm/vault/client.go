package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/cofferhq/coffer/hsm"
)

// Client is an authenticated connection to one Vault server: the Keystore's
// and the backup tools'. Each request's failure is classified into this
// package's errors (unreachable, TLS, sealed, login refused, permission
// denied with the policy path, mount or key missing). It is safe for
// concurrent use.
type Client struct {
	conn Connection
	api  *api.Client
	log  *slog.Logger
	auth string // how the token was obtained, for messages: "token file /x"

	mu      sync.Mutex // serializes AppRole logins
	renewAt time.Time  // AppRole: log in again from then on; zero for a given token
}

// request is one call to Vault's HTTP API.
type request struct {
	method     string         // http.MethodGet or http.MethodPut
	path       string         // API path without /v1/
	capability string         // what a policy must grant on path, for PermissionError
	mount      string         // the secrets engine the path is under, for ErrMountNotFound
	body       map[string]any // PUT only
	query      map[string][]string
}

// Dial connects to the server conn names and logs in: with the referenced
// token (checked with auth/token/lookup-self) or with AppRole. Errors name
// the server and the secret's file or variable, never the secret.
func Dial(ctx context.Context, conn Connection, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		return nil, errors.New("dial vault: missing logger")
	}
	conn = conn.WithDefaults()
	if err := conn.Validate(); err != nil {
		return nil, fmt.Errorf("dial vault: %w", err)
	}
	ac, err := newAPIClient(conn)
	if err != nil {
		return nil, fmt.Errorf("dial vault at %s: %w", conn.Address, err)
	}
	c := &Client{conn: conn, api: ac, log: logger.With("vault", conn.Address)}
	if err := c.login(ctx); err != nil {
		return nil, fmt.Errorf("dial vault at %s: %w", conn.Address, err)
	}
	return c, nil
}

// newAPIClient builds a vault/api client from conn alone: the client's
// environment variables (VAULT_TOKEN, VAULT_SKIP_VERIFY, VAULT_AGENT_ADDR,
// VAULT_HEADERS, …) are overridden, so only the node's config decides
// where it connects, what it trusts and which token it sends.
func newAPIClient(conn Connection) (*api.Client, error) {
	// RootCAs is never left nil: with no ca_file (plain http on loopback,
	// which Validate allows only there) an empty pool trusts nothing,
	// rather than the system roots.
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: x509.NewCertPool()}
	if conn.CAFile != "" {
		pem, err := os.ReadFile(conn.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", conn.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: conn.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: conn.Timeout,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	cfg := api.DefaultConfig()
	if cfg == nil {
		return nil, errors.New("no default vault client configuration")
	}
	cfg.Error = nil // an unparsable VAULT_* variable must not matter: none is used
	cfg.Address, cfg.AgentAddress = conn.Address, ""
	cfg.SRVLookup = false
	cfg.Limiter = nil
	// The whole exchange, body included, is bounded by the HTTP client:
	// the api client's own timeout would cancel raw requests before their
	// body is read.
	cfg.HttpClient = &http.Client{Transport: noRedirects{transport}, Timeout: conn.Timeout, CheckRedirect: refuseRedirect}
	cfg.Timeout = 0
	cfg.MaxRetries = 2
	cfg.DisableRedirects = true
	cfg.CheckRetry = retryPolicy
	ac, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	sanitize(ac)
	return ac, nil
}

// sanitize drops what api.NewClient took from the environment: the token,
// the namespace and extra headers.
func sanitize(ac *api.Client) {
	ac.ClearToken()
	ac.ClearNamespace()
	ac.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
}

// API returns the underlying vault/api client (tests and tools that need a
// call this package does not wrap). Its token is managed by c.
func (c *Client) API() *api.Client { return c.api }

// Address is the server's URL.
func (c *Client) Address() string { return c.conn.Address }

// Read GETs path and returns the response's data (nil for an empty body).
// capability and mount are for error messages.
func (c *Client) Read(ctx context.Context, path, mount string) (map[string]any, error) {
	s, err := c.do(ctx, request{method: http.MethodGet, path: path, capability: `"read"`, mount: mount})
	if err != nil || s == nil {
		return nil, err
	}
	return s.Data, nil
}

// ReadQuery is Read with URL query parameters (KV v2's version=N).
func (c *Client) ReadQuery(ctx context.Context, path, mount string, query map[string][]string) (map[string]any, error) {
	s, err := c.do(ctx, request{method: http.MethodGet, path: path, capability: `"read"`, mount: mount, query: query})
	if err != nil || s == nil {
		return nil, err
	}
	return s.Data, nil
}

// Write PUTs body to path and returns the response's data (nil when Vault
// answers 204). capability names what a policy must grant, e.g.
// `"create", "update"`.
func (c *Client) Write(ctx context.Context, path, mount, capability string, body map[string]any) (map[string]any, error) {
	s, err := c.do(ctx, request{method: http.MethodPut, path: path, capability: capability, mount: mount, body: body})
	if err != nil || s == nil {
		return nil, err
	}
	return s.Data, nil
}

// do sends one request and parses the answer; errors are classified.
func (c *Client) do(ctx context.Context, r request) (*api.Secret, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	var resp *api.Response
	var err error
	switch r.method {
	case http.MethodGet:
		resp, err = c.api.Logical().ReadRawWithDataWithContext(ctx, r.path, r.query)
	default:
		var b []byte
		if b, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("encode request to %s: %w", r.path, err)
		}
		resp, err = c.api.Logical().WriteRawWithContext(ctx, r.path, b)
	}
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, c.classify(ctx, r, err)
	}
	s, err := api.ParseSecret(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("read answer of vault at %s to %s: %w", c.conn.Address, r.path, err)
	}
	return s, nil
}

// classify turns a vault/api or transport error into this package's errors.
func (c *Client) classify(ctx context.Context, r request, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	addr := c.conn.Address
	var re *api.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		lower := strings.ToLower(msg)
		switch {
		case re.StatusCode == http.StatusServiceUnavailable && strings.Contains(lower, "sealed"):
			return fmt.Errorf("%w: %s (an operator must unseal it)", ErrSealed, addr)
		case re.StatusCode == http.StatusForbidden && strings.Contains(lower, "invalid token"):
			return fmt.Errorf("%w: vault at %s refused the token from %s: invalid, expired or revoked", hsm.ErrLogin, addr, c.auth)
		case re.StatusCode == http.StatusForbidden:
			return &PermissionError{Server: addr, Path: r.path, Capability: r.capability}
		case re.StatusCode == http.StatusNotFound && strings.Contains(lower, "no handler for route"):
			return fmt.Errorf("%w: %q at %s (%s)", ErrMountNotFound, r.mount, addr, msg)
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: %s at %s", ErrNotFound, r.path, addr)
		case re.StatusCode == http.StatusBadRequest:
			return fmt.Errorf("%w: %s at %s: %s", ErrRejected, r.path, addr, msg)
		default:
			return fmt.Errorf("vault at %s answered %d to %s %s: %s", addr, re.StatusCode, r.method, r.path, msg)
		}
	}
	var (
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
	)
	if errors.Is(err, ErrRedirect) {
		// Before net.Error: *url.Error, which wraps it, is one.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("vault at %s, %s %s: %w", addr, r.method, r.path, err)
	}
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify) || errors.As(err, &record) {
		return fmt.Errorf("%w: %s (trusting only ca_file %s): %v", ErrTLS, addr, c.conn.CAFile, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || strings.Contains(err.Error(), "giving up after") {
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)
	}
	return fmt.Errorf("call vault at %s (%s %s): %w", addr, r.method, r.path, err)
}
