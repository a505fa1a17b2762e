package pkcs11

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// Provision creates the node's two keys inside the token of cfg and returns
// the identity public key (for the cluster config):
//
//   - cfg.SealKeyLabel: AES-256 secret key (CKM_AES_KEY_GEN), encrypt and
//     decrypt only;
//   - cfg.IdentityKeyLabel: Ed25519 key pair (CKM_EC_EDWARDS_KEY_PAIR_GEN),
//     the private half sign only.
//
// Both secret halves are generated in the token (so CKA_LOCAL,
// CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE hold), are token objects,
// private, sensitive, never extractable, and may not wrap, unwrap or
// derive: every rule Open checks (checkKeyPolicy). If an object already carries either label, Provision changes
// nothing and returns an error wrapping hsm.ErrKeyExists. If the second key
// cannot be created the first is destroyed again.
func Provision(cfg Config, logger *slog.Logger) (ed25519.PublicKey, error) {
	if logger == nil {
		return nil, errors.New("provision hsm keys: missing logger")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("provision hsm keys: %w", err)
	}
	log := logger.With("component", "hsm/pkcs11", "token", cfg.TokenLabel)
	t, err := openTokenFlags(cfg, log, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("provision hsm keys: %w", err)
	}
	pub, err := provision(t, cfg)
	if cerr := t.close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("provision hsm keys: %w", err)
	}
	log.Info("keys provisioned", "seal_key", cfg.SealKeyLabel, "identity_key", cfg.IdentityKeyLabel)
	return pub, nil
}

func provision(t *token, cfg Config) (ed25519.PublicKey, error) {
	m, sh := t.mod, t.sh
	for _, l := range []struct{ what, label string }{
		{"seal key", cfg.SealKeyLabel},
		{"identity key", cfg.IdentityKeyLabel},
	} {
		hs, err := m.findObjects(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, l.label)})
		if err != nil {
			return nil, fmt.Errorf("look for %s %q on token %q: %w", l.what, l.label, t.label, err)
		}
		if len(hs) > 0 {
			return nil, fmt.Errorf("create %s %q on token %q: %w", l.what, l.label, t.label, hsm.ErrKeyExists)
		}
	}
	seal, err := m.ctx.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)},
		sealKeyTemplate(cfg.SealKeyLabel))
	if err != nil {
		return nil, fmt.Errorf("create seal key %q on token %q: %w", cfg.SealKeyLabel, t.label, err)
	}
	pubT, privT := identityTemplates(cfg.IdentityKeyLabel)
	pubH, _, err := m.ctx.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(ckmECEdwardsKeyPairGen, nil)}, pubT, privT)
	if err != nil {
		err = fmt.Errorf("create identity key %q on token %q: %w", cfg.IdentityKeyLabel, t.label, err)
		if derr := m.ctx.DestroyObject(sh, seal); derr != nil {
			err = errors.Join(err, fmt.Errorf("roll back seal key %q: %w", cfg.SealKeyLabel, derr))
		}
		return nil, err
	}
	pub, err := m.readEd25519Public(sh, pubH)
	if err != nil {
		return nil, fmt.Errorf("read identity public key %q on token %q: %w", cfg.IdentityKeyLabel, t.label, err)
	}
	return pub, nil
}

// sealKeyTemplate describes the AES-256 sealing key (DESIGN.md §4).
func sealKeyTemplate(label string) []*p11.Attribute {
	return []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, []byte(label)),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_SIGN, false),
		p11.NewAttribute(p11.CKA_VERIFY, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	}
}

// identityTemplates describe the Ed25519 identity key pair; both halves
// carry the same label and CKA_ID.
func identityTemplates(label string) (pub, priv []*p11.Attribute) {
	pub = []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_EC_PARAMS, ed25519Params),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, []byte(label)),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, false),
		p11.NewAttribute(p11.CKA_VERIFY, true),
	}
	priv = []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, []byte(label)),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_SIGN, true),
		// Said explicitly: modules default CKA_UNWRAP to true on private
		// keys (SoftHSM does), and Open refuses a key that may unwrap.
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	}
	return pub, priv
}

// PublicIdentity opens the keystore of cfg (with every check Open makes),
// returns its identity public key and closes it again.
func PublicIdentity(cfg Config, logger *slog.Logger) (ed25519.PublicKey, error) {
	k, err := Open(cfg, logger)
	if err != nil {
		return nil, err
	}
	pub := k.PublicKey()
	if err := k.Close(); err != nil {
		return nil, err
	}
	return pub, nil
}
