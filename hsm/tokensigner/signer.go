package tokensigner

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// Signer is a crypto.Signer over a private key on a PKCS#11 token.
type Signer struct {
	cfg Config
	pub crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey (P-256)

	mu       sync.Mutex // guards everything below and serializes the session
	ctx      *p11.Ctx
	ours     bool // this Signer called C_Initialize, so it calls C_Finalize
	sh       p11.SessionHandle
	session  bool // sh is open
	loggedIn bool // this Signer logged in, so it logs out
	priv     p11.ObjectHandle
	closed   bool
}

var _ crypto.Signer = (*Signer)(nil)

// Open loads the module, finds the token, logs in with the PIN from the
// environment, finds the key pair by label, checks the private key's
// attributes and signs and verifies a test message. Errors name the
// module, token and key, never the PIN.
func Open(cfg Config) (_ *Signer, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("open key %q on token %q", cfg.KeyLabel, cfg.TokenLabel)
	pn, err := readPIN(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("%s: load PKCS#11 module: %w", what, err)
	}
	ctx := p11.New(cfg.Module)
	if ctx == nil {
		return nil, fmt.Errorf("%s: load PKCS#11 module %s: not a loadable PKCS#11 library", what, cfg.Module)
	}
	s := &Signer{cfg: cfg, ctx: ctx, ours: true}
	if err := ctx.Initialize(); err != nil {
		if !isRV(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, fmt.Errorf("%s: initialize PKCS#11 module %s: %w", what, cfg.Module, err)
		}
		s.ours = false // another user of the module in this process finalizes it
	}
	defer func() {
		if err != nil {
			_ = s.release()
		}
	}()
	if err := s.open(pn); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := s.selfTest(); err != nil {
		return nil, fmt.Errorf("%s: self-test: %w", what, err)
	}
	return s, nil
}

// open finds the token, logs in and finds the key pair.
func (s *Signer) open(pn pin) error {
	slot, err := findSlot(s.ctx, s.cfg.Module, s.cfg.TokenLabel)
	if err != nil {
		return err
	}
	if s.sh, err = s.ctx.OpenSession(slot, p11.CKF_SERIAL_SESSION); err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	s.session = true
	switch err := s.ctx.Login(s.sh, p11.CKU_USER, pn.v); {
	case err == nil:
		s.loggedIn = true
	case isRV(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		// logged in by another user of the module in this process; leave it so
	case isRV(err, p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE, p11.CKR_PIN_LOCKED, p11.CKR_PIN_EXPIRED):
		return fmt.Errorf("log in with the PIN from %s: %w: %w", s.cfg.PINEnv, hsm.ErrLogin, err)
	default:
		return fmt.Errorf("log in: %w", err)
	}
	if s.priv, err = findKey(s.ctx, s.sh, "private key", p11.CKO_PRIVATE_KEY, s.cfg.KeyLabel); err != nil {
		return err
	}
	pubH, err := findKey(s.ctx, s.sh, "public key", p11.CKO_PUBLIC_KEY, s.cfg.KeyLabel)
	if err != nil {
		return err
	}
	var keyType uint
	if s.pub, keyType, err = readPublic(s.ctx, s.sh, pubH); err != nil {
		return fmt.Errorf("read public key %q: %w", s.cfg.KeyLabel, err)
	}
	if err := checkPrivate(s.ctx, s.sh, s.priv, keyType); err != nil {
		return fmt.Errorf("check private key %q: %w", s.cfg.KeyLabel, err)
	}
	return nil
}

// selfTest signs a random message the way policy.Sign does; Sign verifies
// the result with the public key.
func (s *Signer) selfTest() error {
	msg := make([]byte, 32)
	if _, err := rand.Read(msg); err != nil {
		return err
	}
	var err error
	switch s.pub.(type) {
	case ed25519.PublicKey:
		_, err = s.Sign(nil, msg, crypto.Hash(0))
	case *ecdsa.PublicKey:
		d := sha256.Sum256(msg)
		_, err = s.Sign(nil, d[:], crypto.SHA256)
	}
	return err
}

// Public returns the public key: an ed25519.PublicKey or a P-256
// *ecdsa.PublicKey. It answers after Close too.
func (s *Signer) Public() crypto.PublicKey {
	if k, ok := s.pub.(ed25519.PublicKey); ok {
		return append(ed25519.PublicKey(nil), k...)
	}
	return s.pub
}

// Algorithm returns "ed25519" or "p256".
func (s *Signer) Algorithm() string {
	if _, ok := s.pub.(ed25519.PublicKey); ok {
		return "ed25519"
	}
	return "p256"
}

// Close logs out, closes the session and finalizes the module (when this
// Signer initialized it). A second Close fails with hsm.ErrClosed.
func (s *Signer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return hsm.ErrClosed
	}
	s.closed = true
	if err := s.release(); err != nil {
		return fmt.Errorf("close key %q on token %q: %w", s.cfg.KeyLabel, s.cfg.TokenLabel, err)
	}
	return nil
}

// release undoes whatever Open did, in reverse order.
func (s *Signer) release() error {
	var errs []error
	if s.loggedIn {
		if err := s.ctx.Logout(s.sh); err != nil && !isRV(err, p11.CKR_USER_NOT_LOGGED_IN) {
			errs = append(errs, fmt.Errorf("log out: %w", err))
		}
		s.loggedIn = false
	}
	if s.session {
		if err := s.ctx.CloseSession(s.sh); err != nil {
			errs = append(errs, fmt.Errorf("close session: %w", err))
		}
		s.session = false
	}
	if s.ours {
		if err := s.ctx.Finalize(); err != nil {
			errs = append(errs, fmt.Errorf("finalize module: %w", err))
		}
	}
	s.ctx.Destroy()
	return errors.Join(errs...)
}

// isRV reports whether err is a PKCS#11 error with one of the return values.
func isRV(err error, rvs ...uint) bool {
	var e p11.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, rv := range rvs {
		if uint(e) == rv {
			return true
		}
	}
	return false
}
