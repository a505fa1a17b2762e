package pkcs11

import (
	"testing"

	p11 "github.com/miekg/pkcs11"
)

// TestKeysNotExtractable checks the provisioned keys' attributes, and that
// the token refuses to reveal or wrap the secret key material.
func TestKeysNotExtractable(t *testing.T) {
	k := openTest(t, testConfig(tokNode1))
	ctx, sh := k.mod.ctx, k.cur.Load().tok.sh
	for _, key := range []struct {
		name string
		h    p11.ObjectHandle
	}{{"seal", k.cur.Load().sealKey}, {"identity", k.cur.Load().idKey}} {
		t.Run("ok/attributes/"+key.name, func(t *testing.T) {
			a, err := k.mod.attrs(sh, key.h, p11.CKA_TOKEN, p11.CKA_PRIVATE, p11.CKA_SENSITIVE,
				p11.CKA_EXTRACTABLE, p11.CKA_ALWAYS_SENSITIVE, p11.CKA_NEVER_EXTRACTABLE)
			if err != nil {
				t.Fatalf("read attributes: %v", err)
			}
			for typ, want := range map[uint]bool{
				p11.CKA_TOKEN: true, p11.CKA_PRIVATE: true, p11.CKA_SENSITIVE: true, p11.CKA_EXTRACTABLE: false,
				p11.CKA_ALWAYS_SENSITIVE: true, p11.CKA_NEVER_EXTRACTABLE: true,
			} {
				if got := boolAttr(a[typ]); got != want {
					t.Errorf("attribute %#x = %t, want %t", typ, got, want)
				}
			}
		})
		t.Run("fail/read-value/"+key.name, func(t *testing.T) {
			got, err := ctx.GetAttributeValue(sh, key.h, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
			if !isRV(err, p11.CKR_ATTRIBUTE_SENSITIVE) {
				t.Fatalf("read CKA_VALUE = %v, %v; want CKR_ATTRIBUTE_SENSITIVE", got, err)
			}
		})
	}
	t.Run("fail/wrap-seal-key", func(t *testing.T) {
		rw, err := ctx.OpenSession(k.cur.Load().tok.slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		defer ctx.CloseSession(rw)
		wrapper, err := ctx.GenerateKey(rw, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_TOKEN, false), p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
			p11.NewAttribute(p11.CKA_WRAP, true), p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		})
		if err != nil {
			t.Fatalf("create wrapping key: %v", err)
		}
		wrapped, err := ctx.WrapKey(rw, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP, nil)}, wrapper, k.cur.Load().sealKey)
		if err == nil || wrapped != nil {
			t.Fatalf("WrapKey of the seal key succeeded (%d bytes)", len(wrapped))
		}
	})
}
