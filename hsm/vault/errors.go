package vault

import (
	"errors"
	"fmt"
)

// Errors of this backend. Failures that every backend shares wrap the
// sentinels of package hsm instead: hsm.ErrLogin (the token or AppRole
// credentials were refused), hsm.ErrKeyNotFound (a transit key is
// missing), hsm.ErrKeyPolicy (a key may be exported or is of the wrong
// type), hsm.ErrKeyExists, hsm.ErrUnseal and hsm.ErrClosed.
var (
	// ErrUnreachable means no connection to Vault could be made (refused,
	// timed out, no route, DNS).
	ErrUnreachable = errors.New("vault: server unreachable")
	// ErrTLS means the TLS handshake with Vault failed: the server's
	// certificate does not chain to the configured CA or does not name the
	// address.
	ErrTLS = errors.New("vault: TLS verification failed")
	// ErrSealed means Vault answered but is sealed: an operator must unseal
	// it before any node using it can start.
	ErrSealed = errors.New("vault: server is sealed")
	// ErrPermissionDenied means the token is valid but its policies do not
	// grant an operation; the error is a *PermissionError naming the path
	// and the capability the policy must grant.
	ErrPermissionDenied = errors.New("vault: permission denied")
	// ErrMountNotFound means no secrets engine is mounted at the configured
	// path (transit for the keystore, KV v2 for backups).
	ErrMountNotFound = errors.New("vault: no secrets engine mounted at the path")
	// ErrNotFound means the path names nothing (a missing backup, version or
	// key on an existing mount).
	ErrNotFound = errors.New("vault: not found")
	// ErrRejected means Vault refused a request as invalid (HTTP 400).
	ErrRejected = errors.New("vault: request rejected")
	// ErrRedirect means Vault (or whatever answers at its address) answered
	// a redirect. None is followed: it would resend the token and the
	// request body, a share included, wherever it points (redirect.go).
	ErrRedirect = errors.New("vault: redirect refused")
	// ErrAADIgnored means transit decrypted a blob under associated data
	// other than the data it was sealed with: the server ignores
	// associated_data (Vault before 1.13 did), so a blob would open as
	// another node, key or generation. A node refuses to start on it.
	ErrAADIgnored = errors.New("vault: transit ignores associated data")
	// ErrAuditLogRaw means an audit device of the server logs request and
	// response bodies unhashed (log_raw): every share the node seals or
	// opens would be in that log in plaintext. A node refuses to start.
	ErrAuditLogRaw = errors.New("vault: an audit device logs raw bodies")
)

// PermissionError names what the token's policy lacks. It matches
// ErrPermissionDenied with errors.Is.
type PermissionError struct {
	Server     string // Vault address
	Path       string // API path, without /v1/
	Capability string // what the policy must grant on Path, e.g. "update"
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%v at %s: the token's policy must grant path %q { capabilities = [%s] }",
		ErrPermissionDenied, e.Server, e.Path, e.Capability)
}

// Unwrap makes errors.Is(err, ErrPermissionDenied) hold.
func (e *PermissionError) Unwrap() error { return ErrPermissionDenied }
