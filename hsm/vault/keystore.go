package vault

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferhq/coffer/hsm"
)

// keyVersion is the version of both transit keys this backend uses. Blobs
// (hsm/internal/blob) carry no key identifier, so sealing and opening pin
// one version: rotating a key in Vault does not change what Coffer seals
// with, and Open refuses a key whose minimum versions exclude it.
const keyVersion = 1

// Keystore is an hsm.Keystore on Vault's transit engine: an aes256-gcm96
// key seals, an ed25519 key is the node identity. Neither can be exported.
// It is safe for concurrent use.
type Keystore struct {
	cfg      Config
	log      *slog.Logger
	c        *Client
	identity *identitySigner

	mu       sync.Mutex
	closed   bool
	closing  context.Context // canceled by Close: interrupts running requests
	stop     context.CancelFunc
	inflight sync.WaitGroup
}

var _ hsm.Keystore = (*Keystore)(nil)

// Open connects and logs in to the Vault server of cfg, reads both transit
// keys, checks their type and that they can be neither exported, backed up
// in plaintext nor deleted, checks that no audit device logs raw bodies,
// and runs a self-test: seal/open, open under other associated data (which
// must fail), sign/verify. Errors name the server, the mount and the key,
// and wrap ErrUnreachable, ErrTLS, ErrRedirect, ErrSealed,
// ErrMountNotFound, ErrPermissionDenied (a *PermissionError naming the
// policy path), ErrAuditLogRaw, ErrAADIgnored, hsm.ErrLogin,
// hsm.ErrKeyNotFound or hsm.ErrKeyPolicy; they never contain a token or
// secret ID.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Keystore, error) {
	if logger == nil {
		return nil, errors.New("open vault keystore: missing logger")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open vault keystore: %w", err)
	}
	log := logger.With("component", "hsm/vault", "mount", cfg.Mount)
	c, err := Dial(ctx, cfg.Connection, log)
	if err != nil {
		return nil, fmt.Errorf("open vault keystore: %w", err)
	}
	closing, stop := context.WithCancel(context.Background())
	k := &Keystore{cfg: cfg, log: log, c: c, closing: closing, stop: stop}
	if err := k.loadKeys(ctx); err != nil {
		k.abandon()
		return nil, fmt.Errorf("open vault keystore: %w", err)
	}
	if err := k.checkAudit(ctx); err != nil {
		k.abandon()
		return nil, fmt.Errorf("open vault keystore: %w", err)
	}
	if err := k.selfTest(ctx); err != nil {
		k.abandon()
		return nil, fmt.Errorf("open vault keystore: self-test on %s: %w", cfg.Address, err)
	}
	log.Info("keystore open", "seal_key", cfg.SealKey, "identity_key", cfg.IdentityKey,
		"identity_public", hex.EncodeToString(k.identity.pub))
	return k, nil
}

// abandon releases a keystore that failed to open.
func (k *Keystore) abandon() {
	k.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = k.c.Close(ctx)
}

// Identity returns the node identity signer (pure Ed25519 in transit).
func (k *Keystore) Identity() crypto.Signer { return k.identity }

// PublicKey returns the node identity public key.
func (k *Keystore) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.identity.pub...)
}

// begin registers one operation: it fails with hsm.ErrClosed after Close
// and returns a context that Close cancels. end must be called.
func (k *Keystore) begin(ctx context.Context) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil, nil, hsm.ErrClosed
	}
	k.inflight.Add(1)
	k.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(k.closing, cancel)
	return ctx, func() { unhook(); cancel(); k.inflight.Done() }, nil
}

// interrupted maps the error of an operation that Close interrupted to
// hsm.ErrClosed.
func (k *Keystore) interrupted(err error) error {
	if k.closing.Err() != nil {
		return hsm.ErrClosed
	}
	return err
}

// Close interrupts running operations and waits for them, then revokes an
// AppRole token. Operations and a second Close then fail with
// hsm.ErrClosed; Identity().Public() still answers.
func (k *Keystore) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return hsm.ErrClosed
	}
	k.closed = true
	k.mu.Unlock()
	k.stop()
	k.inflight.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.Timeout)
	defer cancel()
	if err := k.c.Close(ctx); err != nil {
		return fmt.Errorf("close vault keystore: %w", err)
	}
	k.log.Info("keystore closed")
	return nil
}
