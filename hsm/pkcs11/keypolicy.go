package pkcs11

import (
	"errors"
	"fmt"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// attrRule is one boolean attribute a node key must have, and why.
type attrRule struct {
	name string
	typ  uint
	want bool
	why  string // what the wrong value means
}

// keyRules are the rules of DESIGN.md §4 both node keys follow. A key that
// merely says it is sensitive and non-extractable now is not enough: a
// key imported with a known value (C_CreateObject, C_UnwrapKey,
// softhsm2-util --import) says so too, and blobs sealed under it open
// offline. So the key must also have been made in the token (CKA_LOCAL)
// and never have been readable or exportable (CKA_ALWAYS_SENSITIVE,
// CKA_NEVER_EXTRACTABLE, which the token sets and nobody can set back),
// and it must not unwrap or derive: either would turn it into a way to
// plant or export other keys.
var keyRules = []attrRule{
	{"CKA_TOKEN", p11.CKA_TOKEN, true, "a session object, gone at logout"},
	{"CKA_PRIVATE", p11.CKA_PRIVATE, true, "usable without logging in"},
	{"CKA_SENSITIVE", p11.CKA_SENSITIVE, true, "its value can be read"},
	{"CKA_EXTRACTABLE", p11.CKA_EXTRACTABLE, false, "it can be exported"},
	{"CKA_ALWAYS_SENSITIVE", p11.CKA_ALWAYS_SENSITIVE, true, "its value could be read once"},
	{"CKA_NEVER_EXTRACTABLE", p11.CKA_NEVER_EXTRACTABLE, true, "it could be exported once"},
	{"CKA_LOCAL", p11.CKA_LOCAL, true, "it was imported or unwrapped, not generated in the token: its value was known outside"},
	{"CKA_UNWRAP", p11.CKA_UNWRAP, false, "it can unwrap (import) other keys"},
	{"CKA_DERIVE", p11.CKA_DERIVE, false, "other keys can be derived from it"},
}

// sealKeyRules add, for the AES sealing key, the one that only secret and
// public keys carry: it must not wrap (export) other keys.
var sealKeyRules = append(keyRules[:len(keyRules):len(keyRules)],
	attrRule{"CKA_WRAP", p11.CKA_WRAP, false, "it can wrap (export) other keys"})

// checkSealKey verifies the sealing key: an AES-256 key for encryption and
// decryption, under sealKeyRules. Errors wrap hsm.ErrKeyPolicy and name
// every attribute that is wrong.
func (m *module) checkSealKey(sh p11.SessionHandle, o p11.ObjectHandle) error {
	if err := m.checkKeyPolicy(sh, o, p11.CKK_AES, sealKeyRules); err != nil {
		return err
	}
	a, err := m.readAttrs(sh, o, p11.CKA_VALUE_LEN, p11.CKA_ENCRYPT, p11.CKA_DECRYPT)
	if err != nil {
		return err
	}
	if n, ok := ulongAttr(a[p11.CKA_VALUE_LEN]); !ok || n != 32 {
		return fmt.Errorf("%w: CKA_VALUE_LEN is %d, want 32 (AES-256)", hsm.ErrKeyPolicy, n)
	}
	if !boolAttr(a[p11.CKA_ENCRYPT]) || !boolAttr(a[p11.CKA_DECRYPT]) {
		return fmt.Errorf("%w: CKA_ENCRYPT and CKA_DECRYPT must both be true", hsm.ErrKeyPolicy)
	}
	return nil
}

// checkIdentityKey verifies the identity private key: Ed25519 under
// keyRules. CKA_WRAP is not checked: PKCS#11 gives private keys no such
// attribute (they cannot wrap).
func (m *module) checkIdentityKey(sh p11.SessionHandle, o p11.ObjectHandle) error {
	return m.checkKeyPolicy(sh, o, ckkECEdwards, keyRules)
}

// checkKeyPolicy verifies that o is a key of keyType that keeps every
// rule; it returns an error wrapping hsm.ErrKeyPolicy naming each
// attribute that is wrong, and why that matters.
func (m *module) checkKeyPolicy(sh p11.SessionHandle, o p11.ObjectHandle, keyType uint, rules []attrRule) error {
	types := []uint{p11.CKA_KEY_TYPE}
	for _, r := range rules {
		types = append(types, r.typ)
	}
	a, err := m.readAttrs(sh, o, types...)
	if err != nil {
		return err
	}
	if kt, ok := ulongAttr(a[p11.CKA_KEY_TYPE]); !ok || kt != uint64(keyType) {
		return fmt.Errorf("%w: CKA_KEY_TYPE is %#x, want %#x", hsm.ErrKeyPolicy, kt, keyType)
	}
	var bad []string
	for _, r := range rules {
		if got := boolAttr(a[r.typ]); got != r.want {
			bad = append(bad, fmt.Sprintf("%s is %t (%s)", r.name, got, r.why))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", hsm.ErrKeyPolicy, strings.Join(bad, "; "))
	}
	return nil
}

// readAttrs reads attributes of o for a policy check. If the token cannot
// give one, the check fails closed, naming the attribute.
func (m *module) readAttrs(sh p11.SessionHandle, o p11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	a, err := m.attrs(sh, o, types...)
	if err == nil {
		return a, nil
	}
	if !isRV(err, p11.CKR_ATTRIBUTE_TYPE_INVALID, p11.CKR_ATTRIBUTE_SENSITIVE) {
		return nil, fmt.Errorf("read key attributes: %w", classify(err))
	}
	var missing []error
	for _, t := range types {
		if _, err := m.attrs(sh, o, t); err != nil {
			missing = append(missing, fmt.Errorf("%s: %w", attrName(t), err))
		}
	}
	return nil, fmt.Errorf("%w: the token does not give every attribute the policy checks: %w", hsm.ErrKeyPolicy, errors.Join(missing...))
}

// attrName names an attribute type the policy reads, for messages.
func attrName(t uint) string {
	for _, r := range sealKeyRules {
		if r.typ == t {
			return r.name
		}
	}
	switch t {
	case p11.CKA_KEY_TYPE:
		return "CKA_KEY_TYPE"
	case p11.CKA_VALUE_LEN:
		return "CKA_VALUE_LEN"
	case p11.CKA_ENCRYPT:
		return "CKA_ENCRYPT"
	case p11.CKA_DECRYPT:
		return "CKA_DECRYPT"
	}
	return fmt.Sprintf("attribute %#x", t)
}
