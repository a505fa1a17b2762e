package pkcs11

import (
	"fmt"
	"io"
	"log/slog"
)

// The types of this package that hold the PIN (token, as a secret) or what
// would let it be guessed offline (module: the HMAC key of the PIN
// fingerprints) format and log as what they name, never their fields: fmt
// prints unexported fields by reflection, without asking the secret field
// to redact itself, and a wrong verb prints even a field's pointer target
// (%d of a struct holding a *token prints the token). Keystore and state
// hold them and are covered too, as is the identity signer other packages
// are given.
var (
	_ slog.LogValuer = secret{}
	_ slog.LogValuer = (*token)(nil)
	_ slog.LogValuer = (*module)(nil)
	_ slog.LogValuer = (*Keystore)(nil)
	_ fmt.Formatter  = (*token)(nil)
	_ fmt.Formatter  = (*module)(nil)
	_ fmt.Formatter  = (*Keystore)(nil)
	_ slog.LogValuer = (*state)(nil)
	_ fmt.Formatter  = (*state)(nil)
	_ slog.LogValuer = (*identitySigner)(nil)
	_ fmt.Formatter  = (*identitySigner)(nil)
)

// LogValue names the token, never the PIN.
func (t *token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// String names the token, never the PIN.
func (t *token) String() string {
	if t == nil {
		return "<nil>"
	}
	return fmt.Sprintf("PKCS#11 token %q (slot %d)", t.label, t.slot)
}

// Format names the token, whatever the verb.
func (t *token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// LogValue names the module, never its PIN fingerprints or their key.
func (m *module) LogValue() slog.Value { return slog.StringValue(m.String()) }

// String names the module.
func (m *module) String() string {
	if m == nil {
		return "<nil>"
	}
	return "PKCS#11 module " + m.path
}

// Format names the module, whatever the verb.
func (m *module) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

// LogValue names the keystore's token and keys.
func (k *Keystore) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("token", k.cfg.TokenLabel), slog.String("seal_key", k.cfg.SealKeyLabel),
		slog.String("identity_key", k.cfg.IdentityKeyLabel))
}

// String names the keystore's token and keys.
func (k *Keystore) String() string {
	if k == nil {
		return "<nil>"
	}
	return fmt.Sprintf("PKCS#11 keystore on token %q (seal key %q, identity key %q)", k.cfg.TokenLabel, k.cfg.SealKeyLabel, k.cfg.IdentityKeyLabel)
}

// Format names the keystore, whatever the verb.
func (k *Keystore) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue names the login generation and its token.
func (s *state) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String names the login generation and its token.
func (s *state) String() string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("login %d on %s", s.gen, s.tok)
}

// Format names the login, whatever the verb.
func (s *state) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue names the identity key by its public key.
func (s *identitySigner) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String names the identity key by its public key.
func (s *identitySigner) String() string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("PKCS#11 identity key %x", []byte(s.pub))
}

// Format names the identity key, whatever the verb.
func (s *identitySigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
