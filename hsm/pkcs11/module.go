package pkcs11

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
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
	refs int  // guarded by registry.mu
	ours bool // we called C_Initialize, so we call C_Finalize

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
	m := &module{path: canon, ctx: ctx, refs: 1, ours: true, logins: map[uint]*login{}}
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
// an existing login of this process if it was made with the same PIN.
// Errors wrap hsm.ErrLogin when the PIN is refused; they never contain it.
func (m *module) login(slot uint, sh p11.SessionHandle, pin secret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mac := hmac.New(sha256.New, m.macKey[:])
	mac.Write([]byte(pin.reveal()))
	sum := mac.Sum(nil)

	err := m.ctx.Login(sh, p11.CKU_USER, pin.reveal())
	l := m.logins[slot]
	switch {
	case err == nil:
		if l == nil {
			l = &login{}
			m.logins[slot] = l
		}
		l.pinMAC, l.refs = sum, l.refs+1
		return nil
	case isRV(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		if l == nil {
			return fmt.Errorf("%w: the token is logged in by another user of the module in this process, so the PIN cannot be checked", hsm.ErrLogin)
		}
		if !hmac.Equal(l.pinMAC, sum) {
			return fmt.Errorf("%w: PIN differs from the one this process logged in with", hsm.ErrLogin)
		}
		l.refs++
		return nil
	case isRV(err, p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE,
		p11.CKR_PIN_LOCKED, p11.CKR_PIN_EXPIRED):
		return fmt.Errorf("%w: %w", hsm.ErrLogin, err)
	default:
		return err
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
	if err := m.ctx.Logout(sh); err != nil && !isRV(err, p11.CKR_USER_NOT_LOGGED_IN) {
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
