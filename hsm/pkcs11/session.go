package pkcs11

import (
	"errors"
	"fmt"
	"log/slog"

	p11 "github.com/miekg/pkcs11"
)

// token is a logged-in session on one token, with the module reference
// that keeps it alive. Open keeps it as the Keystore's anchor; Provision
// uses one read-write token for its whole run.
type token struct {
	mod   *module
	slot  uint
	sh    p11.SessionHandle
	label string
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
		return nil, fmt.Errorf("open session on token %q: %w", cfg.TokenLabel, err)
	}
	if err := m.login(slot, sh, pin); err != nil {
		_ = m.ctx.CloseSession(sh)
		return nil, fmt.Errorf("log in to token %q: %w", cfg.TokenLabel, err)
	}
	return &token{mod: m, slot: slot, sh: sh, label: cfg.TokenLabel}, nil
}

// close logs out (if this was the token's last user in the process), closes
// the session and releases the module.
func (t *token) close() error {
	var errs []error
	if err := t.mod.logout(t.slot, t.sh); err != nil {
		errs = append(errs, fmt.Errorf("log out of token %q: %w", t.label, err))
	}
	if err := t.mod.ctx.CloseSession(t.sh); err != nil {
		errs = append(errs, fmt.Errorf("close session on token %q: %w", t.label, err))
	}
	if err := modules.release(t.mod); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
