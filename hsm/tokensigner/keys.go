package tokensigner

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// ckkECEdwards is CKK_EC_EDWARDS (PKCS#11 3.0), missing from miekg/pkcs11 v1.1.2.
const ckkECEdwards = 0x00000040

// CKA_EC_PARAMS values of the supported curves.
var (
	paramsEd25519OID  = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}                               // OID 1.3.101.112
	paramsEd25519Name = append([]byte{0x13, 0x0c}, "edwards25519"...)                      // PrintableString
	paramsP256        = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07} // OID 1.2.840.10045.3.1.7
)

// findSlot returns the slot of the one initialized token labelled label.
func findSlot(ctx *p11.Ctx, module, label string) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("list slots of module %s: %w", module, err)
	}
	var found []uint
	var seen []string
	for _, sl := range slots {
		ti, err := ctx.GetTokenInfo(sl)
		if err != nil || ti.Flags&p11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		l := strings.TrimRight(ti.Label, " \x00")
		seen = append(seen, fmt.Sprintf("%q", l))
		if l == label {
			found = append(found, sl)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("find token in module %s (tokens present: %s): %w", module, strings.Join(seen, ", "), hsm.ErrTokenNotFound)
	case 1:
		return found[0], nil
	default:
		return 0, fmt.Errorf("find token in module %s: %d tokens carry its label; labels must be unique", module, len(found))
	}
}

// findKey returns the one object of class labelled label.
func findKey(ctx *p11.Ctx, sh p11.SessionHandle, what string, class uint, label string) (p11.ObjectHandle, error) {
	tmpl := []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, class), p11.NewAttribute(p11.CKA_LABEL, label)}
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return 0, fmt.Errorf("find %s %q: %w", what, label, err)
	}
	hs, _, err := ctx.FindObjects(sh, 2)
	if ferr := ctx.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("find %s %q: %w", what, label, err)
	case len(hs) == 0:
		return 0, fmt.Errorf("find %s %q: %w", what, label, hsm.ErrKeyNotFound)
	case len(hs) > 1:
		return 0, fmt.Errorf("find %s %q: several objects carry this label; it must be unique", what, label)
	}
	return hs[0], nil
}

// attrs reads the attributes of the given types of object o.
func attrs(ctx *p11.Ctx, sh p11.SessionHandle, o p11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	tmpl := make([]*p11.Attribute, len(types))
	for i, t := range types {
		tmpl[i] = p11.NewAttribute(t, nil)
	}
	got, err := ctx.GetAttributeValue(sh, o, tmpl)
	if err != nil {
		return nil, err
	}
	out := make(map[uint][]byte, len(got))
	for _, a := range got {
		out[a.Type] = a.Value
	}
	return out, nil
}

// readPublic decodes a public key object: Ed25519 or ECDSA P-256. It
// returns the key and its CKA_KEY_TYPE.
func readPublic(ctx *p11.Ctx, sh p11.SessionHandle, o p11.ObjectHandle) (crypto.PublicKey, uint, error) {
	a, err := attrs(ctx, sh, o, p11.CKA_KEY_TYPE, p11.CKA_EC_PARAMS, p11.CKA_EC_POINT)
	if err != nil {
		return nil, 0, err
	}
	kt, _ := ulongAttr(a[p11.CKA_KEY_TYPE])
	params, point := a[p11.CKA_EC_PARAMS], a[p11.CKA_EC_POINT]
	switch {
	case kt == ckkECEdwards && (bytes.Equal(params, paramsEd25519OID) || bytes.Equal(params, paramsEd25519Name)):
		raw := ecPoint(point, ed25519.PublicKeySize)
		if raw == nil {
			return nil, 0, fmt.Errorf("CKA_EC_POINT (%d bytes) is not an Ed25519 point: %w", len(point), ErrUnsupportedKey)
		}
		return ed25519.PublicKey(raw), ckkECEdwards, nil
	case kt == p11.CKK_EC && bytes.Equal(params, paramsP256):
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), ecPoint(point, 65))
		if err != nil {
			return nil, 0, fmt.Errorf("CKA_EC_POINT is not a P-256 point: %w: %w", ErrUnsupportedKey, err)
		}
		return k, p11.CKK_EC, nil
	default:
		return nil, 0, fmt.Errorf("key type %#x with CKA_EC_PARAMS %x: want Ed25519 or ECDSA P-256: %w", kt, params, ErrUnsupportedKey)
	}
}

// ecPoint returns a copy of the size-byte point in CKA_EC_POINT: the
// content of the DER OCTET STRING PKCS#11 specifies, or the raw point some
// modules return. It returns nil for anything else.
func ecPoint(v []byte, size int) []byte {
	if len(v) == size {
		return bytes.Clone(v)
	}
	var raw []byte
	if rest, err := asn1.Unmarshal(v, &raw); err == nil && len(rest) == 0 && len(raw) == size {
		return raw
	}
	return nil
}

// checkPrivate verifies that o is a private (login required), sensitive,
// non-extractable token key of keyType that may sign; otherwise the error
// wraps hsm.ErrKeyPolicy.
func checkPrivate(ctx *p11.Ctx, sh p11.SessionHandle, o p11.ObjectHandle, keyType uint) error {
	a, err := attrs(ctx, sh, o, p11.CKA_KEY_TYPE, p11.CKA_TOKEN, p11.CKA_PRIVATE, p11.CKA_SIGN, p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE)
	if err != nil {
		return fmt.Errorf("read attributes: %w", err)
	}
	if kt, ok := ulongAttr(a[p11.CKA_KEY_TYPE]); !ok || kt != uint64(keyType) {
		return fmt.Errorf("%w: CKA_KEY_TYPE is %#x, the public key's is %#x", hsm.ErrKeyPolicy, kt, keyType)
	}
	for _, c := range []struct {
		name string
		typ  uint
		want bool
	}{
		{"CKA_TOKEN", p11.CKA_TOKEN, true},
		{"CKA_PRIVATE", p11.CKA_PRIVATE, true},
		{"CKA_SIGN", p11.CKA_SIGN, true},
		{"CKA_SENSITIVE", p11.CKA_SENSITIVE, true},
		{"CKA_EXTRACTABLE", p11.CKA_EXTRACTABLE, false},
	} {
		if v := a[c.typ]; (len(v) == 1 && v[0] != 0) != c.want {
			return fmt.Errorf("%w: %s is %t", hsm.ErrKeyPolicy, c.name, !c.want)
		}
	}
	return nil
}

// ulongAttr decodes a CK_ULONG (native endian, 4 or 8 bytes).
func ulongAttr(v []byte) (uint64, bool) {
	switch len(v) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(v)), true
	case 8:
		return binary.NativeEndian.Uint64(v), true
	}
	return 0, false
}
