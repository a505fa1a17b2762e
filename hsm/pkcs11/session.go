package pkcs11

import (
	"errors"
	"fmt"
	"log/slog"

	p11 "github.com/miekg/pkcs11"
)

// token is a logged-in session on one token, with the module reference
// that keeps it alive. Open keeps it as the Keystore's anchor; Provision
// uses one read-write token for its whole run. It keeps the PIN (as a
// redacting secret) so that the Keystore can log in again when the token
// lost its login (reconnect).
type token struct {
	mod      *module
	slot     uint
	sh       p11.SessionHandle
	flags    uint // of the session
	label    string
	pin      secret
	loggedIn bool // holds a share of the module's login on slot
}

// openToken loads the module, finds the token, opens a session and logs in.
func openToken(cfg Config, log *slog.Logger) (*token, error) {
	return openTokenFlags(cfg, log, p11.CKF_SERIAL_SESSION)
}

func openTokenFlags(cfg Config, log *slog.Logger, flags uint) (_ *token, err error) {
	pin, err := readPIN(cfg, log)
	if err != nil {
		return nil, err
	}
	m, err := modules.acquire(cfg.Module)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = modules.release(m)
		}
	}()
	slot, err := m.findSlot(cfg.TokenLabel)
	if err != nil {
		return nil, err
	}
	sh, err := m.ctx.OpenSession(slot, flags)
	if err != nil {
		return nil, fmt.Errorf("open session on token %q: %w", cfg.TokenLabel, classify(err))
	}
	if err := m.login(slot, sh, pin, log); err != nil {
		_ = m.ctx.CloseSession(sh)
		return nil, fmt.Errorf("log in to token %q: %w", cfg.TokenLabel, err)
	}
	return &token{mod: m, slot: slot, sh: sh, flags: flags, label: cfg.TokenLabel, pin: pin, loggedIn: true}, nil
}

// reconnect finds the token again (it may be back in another slot), opens
// a new session on it and logs in again with t's PIN. It returns the new
// token, which takes over t's share of the login and its module
// reference; t's session is closed. On failure t stays the anchor (its
// share of the login dropped if the token moved slots) and nothing is
// left open.
func (t *token) reconnect(log *slog.Logger) (*token, error) {
	m := t.mod
	slot, err := m.findSlot(t.label)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenNotPresent, err)
	}
	sh, err := m.ctx.OpenSession(slot, t.flags)
	if err != nil {
		return nil, fmt.Errorf("open session on token %q: %w", t.label, classify(err))
	}
	if t.loggedIn {
		err = m.relogin(t.slot, slot, sh, t.pin, log)
		t.loggedIn = err == nil || slot == t.slot
	} else {
		err = m.login(slot, sh, t.pin, log)
	}
	if err != nil {
		_ = m.ctx.CloseSession(sh)
		return nil, fmt.Errorf("log in again to token %q: %w", t.label, err)
	}
	nt := &token{mod: m, slot: slot, sh: sh, flags: t.flags, label: t.label, pin: t.pin, loggedIn: true}
	t.loggedIn = false
	if err := m.ctx.CloseSession(t.sh); err != nil && !gone(err) {
		log.Warn("close the previous anchor session", "err", err)
	}
	return nt, nil
}

// close logs out (if this was the token's last user in the process), closes
// the session and releases the module. A session the token already lost
// is not an error: its login went with it.
func (t *token) close() error {
	err := t.disconnect()
	if rerr := modules.release(t.mod); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// disconnect logs out and closes the session, keeping the module
// reference (for a token reconnect made that is given up).
func (t *token) disconnect() error {
	var errs []error
	if t.loggedIn {
		t.loggedIn = false
		if err := t.mod.logout(t.slot, t.sh); err != nil {
			errs = append(errs, fmt.Errorf("log out of token %q: %w", t.label, err))
		}
	}
	if err := t.mod.ctx.CloseSession(t.sh); err != nil && !gone(err) {
		errs = append(errs, fmt.Errorf("close session on token %q: %w", t.label, err))
	}
	return errors.Join(errs...)
}
