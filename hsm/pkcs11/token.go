package pkcs11

import (
	"encoding/binary"
	"fmt"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// findSlot returns the slot of the one initialized token labelled label.
func (m *module) findSlot(label string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("list slots of module %s: %w", m.path, err)
	}
	var found []uint
	var seen []string
	for _, s := range slots {
		ti, err := m.ctx.GetTokenInfo(s)
		if err != nil { // one faulty slot must not hide the others
			seen = append(seen, fmt.Sprintf("slot %d unreadable (%v)", s, err))
			continue
		}
		if ti.Flags&p11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		l := strings.TrimRight(ti.Label, " \x00")
		seen = append(seen, fmt.Sprintf("%q", l))
		if l == label {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("find token %q in module %s (tokens present: %s): %w",
			label, m.path, strings.Join(seen, ", "), hsm.ErrTokenNotFound)
	case 1:
		return found[0], nil
	default:
		return 0, fmt.Errorf("find token %q in module %s: %d tokens carry this label; labels must be unique", label, m.path, len(found))
	}
}

// findObjects returns the handles of every object matching the template.
func (m *module) findObjects(sh p11.SessionHandle, template []*p11.Attribute) ([]p11.ObjectHandle, error) {
	if err := m.ctx.FindObjectsInit(sh, template); err != nil {
		return nil, err
	}
	var all []p11.ObjectHandle
	for {
		hs, _, err := m.ctx.FindObjects(sh, 16)
		if err != nil {
			_ = m.ctx.FindObjectsFinal(sh)
			return nil, err
		}
		all = append(all, hs...)
		if len(hs) == 0 {
			break
		}
	}
	return all, m.ctx.FindObjectsFinal(sh)
}

// findKey returns the one object of class with CKA_LABEL label. what names
// the key in errors ("seal key", "identity private key").
func (m *module) findKey(sh p11.SessionHandle, token, what string, class uint, label string) (p11.ObjectHandle, error) {
	hs, err := m.findObjects(sh, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, class),
		p11.NewAttribute(p11.CKA_LABEL, label),
	})
	if err != nil {
		return 0, fmt.Errorf("find %s %q on token %q: %w", what, label, token, err)
	}
	switch len(hs) {
	case 0:
		return 0, fmt.Errorf("find %s %q on token %q: %w", what, label, token, hsm.ErrKeyNotFound)
	case 1:
		return hs[0], nil
	default:
		return 0, fmt.Errorf("find %s %q on token %q: %d objects carry this label; it must be unique", what, label, token, len(hs))
	}
}

// attrs reads the attributes of the given types of object o.
func (m *module) attrs(sh p11.SessionHandle, o p11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	tmpl := make([]*p11.Attribute, len(types))
	for i, t := range types {
		tmpl[i] = p11.NewAttribute(t, nil)
	}
	got, err := m.ctx.GetAttributeValue(sh, o, tmpl)
	if err != nil {
		return nil, err
	}
	out := make(map[uint][]byte, len(got))
	for _, a := range got {
		out[a.Type] = a.Value
	}
	return out, nil
}

// boolAttr decodes a CK_BBOOL.
func boolAttr(v []byte) bool { return len(v) == 1 && v[0] != 0 }

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
