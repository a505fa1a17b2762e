package pkcs11

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// TestOpenRefusesPlantedKeys plants keys that look sensitive and
// non-extractable but were not made in the token, or may wrap, unwrap or
// derive, under the labels Open looks for: Open refuses each, naming the
// attribute. Keys made by Provision pass.
func TestOpenRefusesPlantedKeys(t *testing.T) {
	n := keySets.Add(1)
	cfg := testConfig(tokErrs)
	prov := cfg
	prov.SealKeyLabel, prov.IdentityKeyLabel = fmt.Sprintf("good-seal-%d", n), fmt.Sprintf("good-node-%d", n)
	if _, err := Provision(prov, testLogger(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	rw := openRW(t, cfg)
	sealValue := make([]byte, 32)
	rand.Read(sealValue)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)

	label := func(s string) string { return fmt.Sprintf("%s-%d", s, n) }
	aesGen := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}
	edGen := []*p11.Mechanism{p11.NewMechanism(ckmECEdwardsKeyPairGen, nil)}
	genSeal := func(l string, extra ...*p11.Attribute) {
		if _, err := rw.mod.ctx.GenerateKey(rw.sh, aesGen, override(append(sealKeyTemplate(l), extra...))); err != nil {
			t.Fatalf("generate %s: %v", l, err)
		}
	}
	genIdentity := func(l string, extra ...*p11.Attribute) {
		pub, priv := identityTemplates(l)
		if _, _, err := rw.mod.ctx.GenerateKeyPair(rw.sh, edGen, pub, override(append(priv, extra...))); err != nil {
			t.Fatalf("generate %s: %v", l, err)
		}
	}
	create := func(l string, tmpl []*p11.Attribute) {
		if _, err := rw.mod.ctx.CreateObject(rw.sh, tmpl); err != nil {
			t.Fatalf("create %s: %v", l, err)
		}
	}

	// An AES key imported with a value the attacker keeps, with every
	// attribute Coffer sets: sensitive, not extractable, no wrap.
	create(label("imported-seal"), append(without(sealKeyTemplate(label("imported-seal")), p11.CKA_VALUE_LEN),
		p11.NewAttribute(p11.CKA_VALUE, sealValue)))
	genSeal(label("wrap-seal"), p11.NewAttribute(p11.CKA_WRAP, true))
	genSeal(label("unwrap-seal"), p11.NewAttribute(p11.CKA_UNWRAP, true))
	genSeal(label("derive-seal"), p11.NewAttribute(p11.CKA_DERIVE, true))
	// An Ed25519 private key imported from its seed, with its public key.
	pubT, privT := identityTemplates(label("imported-node"))
	create(label("imported-node"), override(append(privT, p11.NewAttribute(p11.CKA_EC_PARAMS, ed25519Params),
		p11.NewAttribute(p11.CKA_VALUE, edPriv.Seed()))))
	create(label("imported-node")+"/pub", override(append(pubT[:len(pubT):len(pubT)],
		p11.NewAttribute(p11.CKA_EC_POINT, append([]byte{0x04, 0x20}, edPriv.Public().(ed25519.PublicKey)...)))))
	genIdentity(label("unwrap-node"), p11.NewAttribute(p11.CKA_UNWRAP, true))
	genIdentity(label("derive-node"), p11.NewAttribute(p11.CKA_DERIVE, true))

	tests := []struct {
		name, seal, node string
		mention          []string
	}{
		{"ok/provisioned", prov.SealKeyLabel, prov.IdentityKeyLabel, nil},
		{"fail/imported-seal-key", label("imported-seal"), prov.IdentityKeyLabel,
			[]string{label("imported-seal"), "CKA_LOCAL is false", "CKA_ALWAYS_SENSITIVE is false", "CKA_NEVER_EXTRACTABLE is false"}},
		{"fail/seal-key-may-wrap", label("wrap-seal"), prov.IdentityKeyLabel, []string{label("wrap-seal"), "CKA_WRAP is true"}},
		{"fail/seal-key-may-unwrap", label("unwrap-seal"), prov.IdentityKeyLabel, []string{label("unwrap-seal"), "CKA_UNWRAP is true"}},
		{"fail/seal-key-may-derive", label("derive-seal"), prov.IdentityKeyLabel, []string{label("derive-seal"), "CKA_DERIVE is true"}},
		{"fail/extractable-seal-key", labelExtractable, prov.IdentityKeyLabel,
			[]string{"CKA_EXTRACTABLE is true", "CKA_NEVER_EXTRACTABLE is false", "CKA_SENSITIVE is false", "CKA_ALWAYS_SENSITIVE is false"}},
		{"fail/imported-identity-key", prov.SealKeyLabel, label("imported-node"),
			[]string{"identity private key " + fmt.Sprintf("%q", label("imported-node")), "CKA_LOCAL is false"}},
		{"fail/identity-key-may-unwrap", prov.SealKeyLabel, label("unwrap-node"), []string{label("unwrap-node"), "CKA_UNWRAP is true"}},
		{"fail/identity-key-may-derive", prov.SealKeyLabel, label("derive-node"), []string{label("derive-node"), "CKA_DERIVE is true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.SealKeyLabel, c.IdentityKeyLabel = tc.seal, tc.node
			k, err := Open(c, testLogger(t))
			if strings.HasPrefix(tc.name, "ok/") {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if err := k.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				k.Close()
				t.Fatal("Open accepted the key")
			}
			if !errors.Is(err, hsm.ErrKeyPolicy) {
				t.Errorf("err = %v, want ErrKeyPolicy", err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("err = %q, want it to mention %q", err, m)
				}
			}
			for _, secret := range [][]byte{sealValue, edPriv.Seed()} {
				if strings.Contains(err.Error(), hex.EncodeToString(secret)) {
					t.Errorf("err contains a key value: %q", err)
				}
			}
		})
	}
}

// openRW opens a read-write, logged-in session on a test token for the
// test to plant objects with; it is closed at cleanup.
func openRW(t *testing.T, cfg Config) *token {
	t.Helper()
	tok, err := openTokenFlags(cfg.WithDefaults(), testLogger(t), p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		t.Fatalf("open a read-write session: %v", err)
	}
	t.Cleanup(func() {
		if err := tok.close(); err != nil {
			t.Errorf("close the read-write session: %v", err)
		}
	})
	return tok
}

// without drops the attributes of the given types from tmpl.
func without(tmpl []*p11.Attribute, types ...uint) []*p11.Attribute {
	var out []*p11.Attribute
	for _, a := range tmpl {
		if !slices.Contains(types, a.Type) {
			out = append(out, a)
		}
	}
	return out
}
