package pkcs11

import (
	"errors"
	"fmt"
	"log/slog"

	p11 "github.com/miekg/pkcs11"
)

// Harden turns off, on the node's keys, what an older provisioning left on
// and Open now refuses: CKA_WRAP (the seal key), CKA_UNWRAP and CKA_DERIVE
// (both keys). These attributes may be changed to false. The attributes
// that tell where a key came from (CKA_LOCAL, CKA_ALWAYS_SENSITIVE,
// CKA_NEVER_EXTRACTABLE) cannot be: a key that fails them may have been
// known outside the token and must be remade (a membership change). Harden
// returns the attributes it turned off, then runs Open's checks on both
// keys and returns their errors.
func Harden(cfg Config, logger *slog.Logger) ([]string, error) {
	if logger == nil {
		return nil, errors.New("harden hsm keys: missing logger")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("harden hsm keys: %w", err)
	}
	log := logger.With("component", "hsm/pkcs11", "token", cfg.TokenLabel)
	t, err := openTokenFlags(cfg, log, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("harden hsm keys: %w", err)
	}
	changed, err := harden(t, cfg)
	if cerr := t.close(); cerr != nil && err == nil {
		err = cerr
	}
	if len(changed) > 0 {
		log.Info("key attributes turned off", "changed", changed)
	}
	if err != nil {
		return changed, fmt.Errorf("harden hsm keys: %w", err)
	}
	return changed, nil
}

func harden(t *token, cfg Config) ([]string, error) {
	m, sh := t.mod, t.sh
	seal, err := m.findKey(sh, t.label, "seal key", p11.CKO_SECRET_KEY, cfg.SealKeyLabel)
	if err != nil {
		return nil, err
	}
	priv, err := m.findKey(sh, t.label, "identity private key", p11.CKO_PRIVATE_KEY, cfg.IdentityKeyLabel)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, k := range []struct {
		what  string
		obj   p11.ObjectHandle
		attrs []uint
	}{
		{"seal key", seal, []uint{p11.CKA_WRAP, p11.CKA_UNWRAP, p11.CKA_DERIVE}},
		{"identity key", priv, []uint{p11.CKA_UNWRAP, p11.CKA_DERIVE}},
	} {
		a, err := m.readAttrs(sh, k.obj, k.attrs...)
		if err != nil {
			return changed, fmt.Errorf("%s: %w", k.what, err)
		}
		for _, typ := range k.attrs {
			if !boolAttr(a[typ]) {
				continue
			}
			if err := m.ctx.SetAttributeValue(sh, k.obj, []*p11.Attribute{p11.NewAttribute(typ, false)}); err != nil {
				return changed, fmt.Errorf("%s: turn %s off: %w", k.what, attrName(typ), classify(err))
			}
			changed = append(changed, k.what+" "+attrName(typ))
		}
	}
	var errs []error
	if err := m.checkSealKey(sh, seal); err != nil {
		errs = append(errs, fmt.Errorf("seal key %q (remake it): %w", cfg.SealKeyLabel, err))
	}
	if err := m.checkIdentityKey(sh, priv); err != nil {
		errs = append(errs, fmt.Errorf("identity key %q (remake it): %w", cfg.IdentityKeyLabel, err))
	}
	return changed, errors.Join(errs...)
}
