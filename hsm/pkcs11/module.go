package pkcs11

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// modules is the process-wide registry of loaded PKCS#11 modules, the one
// package-level variable of this package. It exists because PKCS#11 state is
// per process, not per caller: C_Initialize may succeed only once per module
// (a second call fails with CKR_CRYPTOKI_ALREADY_INITIALIZED, and C_Finalize
// by one user would pull the module from under every other), and a token's
// login state is shared by every session the process has open on it. Several
// Keystores of one module (one per token, as in the dev cluster and the
// tests) therefore share one entry, refcounted: C_Initialize on the first
// acquire, C_Finalize and unload on the last release.
var modules = &registry{loaded: map[string]*module{}}

type registry struct {
	mu     sync.Mutex
	loaded map[string]*module // by canonical module path
}

// module is one loaded, initialized PKCS#11 library.
type module struct {
	path string
	ctx  *p11.Ctx
	refs int      // guarded by registry.mu
	ours bool     // we called C_Initialize, so we call C_Finalize
	auth loginAPI // = ctx, but for the tests of the PIN-retry flags

	mu     sync.Mutex      // guards logins; held across C_Login/C_Logout
	logins map[uint]*login // by slot ID
	macKey [32]byte        // keys the PIN fingerprints in logins
}

// login is the shared login state of one token. The PIN fingerprint lets a
// second Keystore on an already logged-in token prove it was given the same
// PIN: the token answers CKR_USER_ALREADY_LOGGED_IN without checking it.
type login struct {
	refs   int
	pinMAC []byte
}

// acquire loads and initializes the module at path, or takes another
// reference to it.
func (r *registry) acquire(path string) (*module, error) {
	canon, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("load PKCS#11 module %s: %w", path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.loaded[canon]; ok {
		m.refs++
		return m, nil
	}
	ctx := p11.New(canon)
	if ctx == nil {
		return nil, fmt.Errorf("load PKCS#11 module %s: not a loadable PKCS#11 library", path)
	}
	m := &module{path: canon, ctx: ctx, auth: ctx, refs: 1, ours: true, logins: map[uint]*login{}}
	if err := ctx.Initialize(); err != nil {
		if !isRV(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, fmt.Errorf("initialize PKCS#11 module %s: %w", path, err)
		}
		// Another library in this process initialized it; leave C_Finalize to it.
		m.ours = false
	}
	rand.Read(m.macKey[:])
	r.loaded[canon] = m
	return m, nil
}

// release drops a reference; the last one finalizes and unloads the module.
func (r *registry) release(m *module) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(r.loaded, m.path)
	var err error
	if m.ours {
		if ferr := m.ctx.Finalize(); ferr != nil {
			err = fmt.Errorf("finalize PKCS#11 module %s: %w", m.path, ferr)
		}
	}
	m.ctx.Destroy()
	return err
}

// login logs the user in to the token in slot through session sh, or joins
// an existing login of this process if it was made with the same PIN. It
// reads the token's PIN-retry flags first and does not try the PIN when
// the token is locked or at its last attempt (checkPINFlags).
// Errors wrap hsm.ErrLogin when the PIN is refused or not tried; they
// never contain it.
func (m *module) login(slot uint, sh p11.SessionHandle, pin secret, log *slog.Logger) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loginShare(slot, sh, pin, log, false)
}

// relogin logs in again after the token lost the caller's login (its
// sessions were closed, or the token was removed and is back, maybe in
// another slot), through the caller's new session sh. The caller holds a
// share of the login on slot old. If the token is back in the same slot
// the share stays counted, so a token still logged in through another
// session of this process (CKR_USER_ALREADY_LOGGED_IN) is recognised by
// the PIN fingerprint; if the login fails, the caller still holds the
// share (and drops it with logout). If the token is in another slot, the share on old is
// dropped first and a failed relogin leaves the caller with none.
func (m *module) relogin(old, slot uint, sh p11.SessionHandle, pin secret, log *slog.Logger) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old == slot {
		return m.loginShare(slot, sh, pin, log, true)
	}
	if l := m.logins[old]; l != nil {
		if l.refs--; l.refs <= 0 {
			delete(m.logins, old)
		}
	}
	return m.loginShare(slot, sh, pin, log, false)
}

// loginShare logs in; held says the caller already counts in the login
// of slot (relogin), so it is not counted twice.
func (m *module) loginShare(slot uint, sh p11.SessionHandle, pin secret, log *slog.Logger, held bool) error {
	if err := guardPIN(m.auth, slot, log); err != nil {
		return err
	}
	mac := hmac.New(sha256.New, m.macKey[:])
	mac.Write([]byte(pin.reveal()))
	sum := mac.Sum(nil)

	err := m.auth.Login(sh, p11.CKU_USER, pin.reveal())
	l := m.logins[slot]
	switch {
	case err == nil:
		if l == nil {
			l, held = &login{}, false
			m.logins[slot] = l
		}
		l.pinMAC = sum
		if !held {
			l.refs++
		}
		return nil
	case isRV(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		if l == nil {
			return fmt.Errorf("%w: the token is logged in by another user of the module in this process, so the PIN cannot be checked", hsm.ErrLogin)
		}
		if !hmac.Equal(l.pinMAC, sum) {
			return fmt.Errorf("%w: PIN differs from the one this process logged in with", hsm.ErrLogin)
		}
		if !held {
			l.refs++
		}
		return nil
	case isRV(err, p11.CKR_PIN_LOCKED):
		return fmt.Errorf("%w (%w)", ErrPINLocked, err)
	case isRV(err, p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE, p11.CKR_PIN_EXPIRED):
		return fmt.Errorf("%w: %w", hsm.ErrLogin, err)
	default:
		return classify(err)
	}
}

// logout drops this caller's share of the token login; the last one logs
// the token out through session sh.
func (m *module) logout(slot uint, sh p11.SessionHandle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.logins[slot]
	if l == nil {
		return nil
	}
	if l.refs--; l.refs > 0 {
		return nil
	}
	delete(m.logins, slot)
	// A session or token that is gone took the login with it.
	if err := m.ctx.Logout(sh); err != nil && !isRV(err, p11.CKR_USER_NOT_LOGGED_IN) && !gone(err) {
		return err
	}
	return nil
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
