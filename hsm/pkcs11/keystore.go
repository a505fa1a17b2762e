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
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// Keystore is an hsm.Keystore on one PKCS#11 token. It is safe for
// concurrent use: each operation borrows one of cfg.Sessions sessions.
type Keystore struct {
	cfg Config
	log *slog.Logger
	mod *module // = cur.tok.mod; the one module reference, released by Close

	// cur is the token's present login: its anchor session (used by Open,
	// relogin and Close only) and the key handles found through it.
	// relogin replaces it whole when the token lost its sessions.
	cur      atomic.Pointer[state]
	identity *identitySigner
	// probe is a blob sealed by the self-test at Open: a blob known to
	// open, to tell a device failure from a forged tag (decryptError) and
	// to check that a token that came back holds the same seal key.
	probe []byte
	rec   recovery

	// pool holds cfg.Sessions entries; a zero sh is a slot with no session
	// open yet (or whose session was discarded after an error).
	pool chan pooled

	mu       sync.Mutex
	closed   bool
	done     chan struct{}  // closed by Close
	inflight sync.WaitGroup // operations holding or waiting for a session
}

var _ hsm.Keystore = (*Keystore)(nil)

// state is what one login on the token gives. gen counts the logins, so
// that sessions opened under an older one are not reused.
type state struct {
	gen     uint64
	tok     *token
	sealKey p11.ObjectHandle
	idKey   p11.ObjectHandle
}

// pooled is a session in the pool and the login generation it was opened in.
type pooled struct {
	sh  p11.SessionHandle
	gen uint64
}

// lease is a borrowed session with the state it is to be used with.
type lease struct {
	sh p11.SessionHandle
	st *state
}

// Open finds the token labelled cfg.TokenLabel in cfg.Module, logs in with
// the referenced PIN (unless the token reports the PIN locked or at its
// last try), finds the sealing and identity keys, checks that they were
// made in the token and can never leave it (checkKeyPolicy), and runs a
// seal/open and sign/verify self-test. Errors name the token and key and
// wrap hsm.ErrTokenNotFound, hsm.ErrLogin (ErrPINLocked, ErrPINFinalTry),
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
		cfg: cfg, log: log, mod: t.mod,
		pool: make(chan pooled, cfg.Sessions),
		done: make(chan struct{}),
	}
	for range cfg.Sessions {
		k.pool <- pooled{}
	}
	st, pub, err := k.loadKeys(t)
	if err != nil {
		_ = t.close()
		return nil, fmt.Errorf("open hsm keystore: %w", err)
	}
	k.identity = &identitySigner{k: k, pub: pub}
	k.cur.Store(st)
	if err := k.selfTest(); err != nil {
		_ = k.Close()
		return nil, fmt.Errorf("open hsm keystore: self-test on token %q: %w", cfg.TokenLabel, err)
	}
	log.Info("keystore open", "module", t.mod.path, "seal_key", cfg.SealKeyLabel,
		"identity_key", cfg.IdentityKeyLabel, "identity_public", hex.EncodeToString(pub),
		"sessions", cfg.Sessions)
	return k, nil
}

// loadKeys finds and checks both keys through t's session and reads the
// identity public key.
func (k *Keystore) loadKeys(t *token) (*state, ed25519.PublicKey, error) {
	m, sh, token := t.mod, t.sh, k.cfg.TokenLabel
	seal, err := m.findKey(sh, token, "seal key", p11.CKO_SECRET_KEY, k.cfg.SealKeyLabel)
	if err != nil {
		return nil, nil, err
	}
	if err := m.checkSealKey(sh, seal); err != nil {
		return nil, nil, fmt.Errorf("check seal key %q on token %q: %w", k.cfg.SealKeyLabel, token, err)
	}
	priv, err := m.findKey(sh, token, "identity private key", p11.CKO_PRIVATE_KEY, k.cfg.IdentityKeyLabel)
	if err != nil {
		return nil, nil, err
	}
	if err := m.checkIdentityKey(sh, priv); err != nil {
		return nil, nil, fmt.Errorf("check identity private key %q on token %q: %w", k.cfg.IdentityKeyLabel, token, err)
	}
	pubH, err := m.findKey(sh, token, "identity public key", p11.CKO_PUBLIC_KEY, k.cfg.IdentityKeyLabel)
	if err != nil {
		return nil, nil, err
	}
	pub, err := m.readEd25519Public(sh, pubH)
	if err != nil {
		return nil, nil, fmt.Errorf("read identity public key %q on token %q: %w", k.cfg.IdentityKeyLabel, token, err)
	}
	return &state{tok: t, sealKey: seal, idKey: priv}, pub, nil
}

// Identity returns the node identity signer (pure Ed25519, CKM_EDDSA).
func (k *Keystore) Identity() crypto.Signer { return k.identity }

// PublicKey returns the node identity public key.
func (k *Keystore) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), k.identity.pub...)
}

// acquire borrows a session, opening one if the slot it got is empty or
// holds a session of an older login. It waits while every session is
// busy, until ctx ends or the keystore closes. When opening a session
// fails, the lease still names the state it was tried under.
func (k *Keystore) acquire(ctx context.Context) (lease, error) {
	if err := ctx.Err(); err != nil {
		return lease{}, err
	}
	if !k.enter() {
		return lease{}, hsm.ErrClosed
	}

	var p pooled
	select {
	case p = <-k.pool:
	case <-ctx.Done():
		k.inflight.Done()
		return lease{}, ctx.Err()
	case <-k.done:
		k.inflight.Done()
		return lease{}, hsm.ErrClosed
	}
	st := k.cur.Load()
	if p.sh != 0 && p.gen != st.gen {
		k.discard(p.sh) // opened before the token lost its login
		p.sh = 0
	}
	if p.sh != 0 {
		return lease{sh: p.sh, st: st}, nil
	}
	sh, err := k.mod.ctx.OpenSession(st.tok.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		k.pool <- pooled{}
		k.inflight.Done()
		return lease{st: st}, fmt.Errorf("open session: %w", classify(err))
	}
	return lease{sh: sh, st: st}, nil
}

// enter counts an operation in, unless the keystore is closed: Close
// waits for every operation counted in to leave (inflight.Done).
func (k *Keystore) enter() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return false
	}
	k.inflight.Add(1)
	return true
}

// release returns a session to the pool. A session that saw an error is
// closed instead, so that no half-finished operation can leak into the next
// caller; the next acquire of its slot opens a fresh one (the anchor session
// keeps the token logged in meanwhile).
func (k *Keystore) release(l lease, failed bool) {
	p := pooled{sh: l.sh, gen: l.st.gen}
	if failed {
		k.discard(l.sh)
		p = pooled{}
	}
	k.pool <- p
	k.inflight.Done()
}

// discard closes a session that is not to be reused; one the token already
// lost is no matter.
func (k *Keystore) discard(sh p11.SessionHandle) {
	if err := k.mod.ctx.CloseSession(sh); err != nil && !gone(err) {
		k.log.Warn("close failed session", "err", err)
	}
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
		if p := <-k.pool; p.sh != 0 {
			if err := k.mod.ctx.CloseSession(p.sh); err != nil && !gone(err) {
				errs = append(errs, fmt.Errorf("close session: %w", err))
			}
		}
	}
	if err := k.cur.Load().tok.close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close token %q: %w", k.cfg.TokenLabel, err)
	}
	k.log.Info("keystore closed")
	return nil
}
