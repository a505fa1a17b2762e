package pkcs11

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// Keystore is an hsm.Keystore on one PKCS#11 token. It is safe for
// concurrent use: each operation borrows one of cfg.Sessions sessions.
type Keystore struct {
	cfg Config
	log *slog.Logger
	mod *module // = tok.mod
	tok *token  // the anchor session: holds the login, used by Open and Close only

	sealKey  p11.ObjectHandle
	idKey    p11.ObjectHandle
	identity *identitySigner

	// pool holds cfg.Sessions entries; 0 is a slot with no session open yet
	// (or whose session was discarded after an error).
	pool chan p11.SessionHandle

	mu       sync.Mutex
	closed   bool
	done     chan struct{}  // closed by Close
	inflight sync.WaitGroup // operations holding or waiting for a session
}

var _ hsm.Keystore = (*Keystore)(nil)

// Open finds the token labelled cfg.TokenLabel in cfg.Module, logs in with
// the referenced PIN, finds the sealing and identity keys, checks their
// attributes and runs a seal/open and sign/verify self-test. Errors name the
// token and key and wrap hsm.ErrTokenNotFound, hsm.ErrLogin,
// hsm.ErrKeyNotFound or hsm.ErrKeyPolicy; they never contain the PIN.
func Open(cfg Config, logger *slog.Logger) (*Keystore, error) {
	if logger == nil {
		return nil, errors.New("open hsm keystore: missing logger")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open hsm keystore: %w", err)
	}
	log := logger.With("component", "hsm/pkcs11", "token", cfg.TokenLabel)
	t, err := openToken(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open hsm keystore: %w", err)
	}
	k := &Keystore{
		cfg: cfg, log: log, mod: t.mod, tok: t,
		pool: make(chan p11.SessionHandle, cfg.Sessions),
		done: make(chan struct{}),
	}
	for range cfg.Sessions {
		k.pool <- 0
	}
	if err := k.loadKeys(); err != nil {
		_ = t.close()
		return nil, fmt.Errorf("open hsm keystore: %w", err)
	}
	if err := k.selfTest(); err != nil {
		_ = k.Close()
		return nil, fmt.Errorf("open hsm keystore: self-test on token %q: %w", cfg.TokenLabel, err)
	}
	log.Info("keystore open", "module", t.mod.path, "seal_key", cfg.SealKeyLabel,
		"identity_key", cfg.IdentityKeyLabel, "identity_public", hex.EncodeToString(k.identity.pub),
		"sessions", cfg.Sessions)
	return k, nil
}

// loadKeys finds and checks both keys and reads the identity public key.
func (k *Keystore) loadKeys() error {
	m, sh, token := k.mod, k.tok.sh, k.cfg.TokenLabel
	var err error
	if k.sealKey, err = m.findKey(sh, token, "seal key", p11.CKO_SECRET_KEY, k.cfg.SealKeyLabel); err != nil {
		return err
	}
	if err := m.checkSealKey(sh, k.sealKey); err != nil {
		return fmt.Errorf("check seal key %q on token %q: %w", k.cfg.SealKeyLabel, token, err)
	}
	if k.idKey, err = m.findKey(sh, token, "identity private key", p11.CKO_PRIVATE_KEY, k.cfg.IdentityKeyLabel); err != nil {
		return err
	}
	if err := m.checkKeyPolicy(sh, k.idKey, ckkECEdwards); err != nil {
		return fmt.Errorf("check identity private key %q on token %q: %w", k.cfg.IdentityKeyLabel, token, err)
	}
	pubH, err := m.findKey(sh, token, "identity public key", p11.CKO_PUBLIC_KEY, k.cfg.IdentityKeyLabel)
	if err != nil {
		return err
	}
	pub, err := m.readEd25519Public(sh, pubH)
	if err != nil {
		return fmt.Errorf("read identity public key %q on token %q: %w", k.cfg.IdentityKeyLabel, token, err)
	}
	k.identity = &identitySigner{k: k, pub: pub}
	return nil
}

// Identity returns the node identity signer (pure Ed25519, CKM_EDDSA).
func (k *Keystore) Identity() crypto.Signer { return k.identity }

// PublicKey returns the node identity public key.
func (k *Keystore) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.identity.pub...)
}

// acquire borrows a session, opening one if the slot it got is empty. It
// waits while every session is busy, until ctx ends or the keystore closes.
func (k *Keystore) acquire(ctx context.Context) (p11.SessionHandle, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return 0, hsm.ErrClosed
	}
	k.inflight.Add(1)
	k.mu.Unlock()

	var sh p11.SessionHandle
	select {
	case sh = <-k.pool:
	case <-ctx.Done():
		k.inflight.Done()
		return 0, ctx.Err()
	case <-k.done:
		k.inflight.Done()
		return 0, hsm.ErrClosed
	}
	if sh != 0 {
		return sh, nil
	}
	sh, err := k.mod.ctx.OpenSession(k.tok.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		k.pool <- 0
		k.inflight.Done()
		return 0, fmt.Errorf("open session: %w", err)
	}
	return sh, nil
}

// release returns a session to the pool. A session that saw an error is
// closed instead, so that no half-finished operation can leak into the next
// caller; the next acquire of its slot opens a fresh one (the anchor session
// keeps the token logged in meanwhile).
func (k *Keystore) release(sh p11.SessionHandle, failed bool) {
	if failed {
		if err := k.mod.ctx.CloseSession(sh); err != nil {
			k.log.Warn("close failed session", "err", err)
		}
		sh = 0
	}
	k.pool <- sh
	k.inflight.Done()
}

// Close waits for running operations, closes every session, logs out (when
// no other Keystore of this process uses the token) and releases the
// module. Operations and a second Close then fail with hsm.ErrClosed.
func (k *Keystore) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return hsm.ErrClosed
	}
	k.closed = true
	close(k.done)
	k.mu.Unlock()

	k.inflight.Wait()
	var errs []error
	for range cap(k.pool) {
		if sh := <-k.pool; sh != 0 {
			if err := k.mod.ctx.CloseSession(sh); err != nil {
				errs = append(errs, fmt.Errorf("close session: %w", err))
			}
		}
	}
	if err := k.tok.close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close token %q: %w", k.cfg.TokenLabel, err)
	}
	k.log.Info("keystore closed")
	return nil
}
