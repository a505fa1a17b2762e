package pkcs11

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// TestHarden: keys made in the token by an older provisioning, which left
// CKA_UNWRAP (and here CKA_WRAP, CKA_DERIVE) on, are refused by Open;
// Harden turns those off and Open then takes them. A key imported with a
// known value stays refused: where it came from cannot be changed.
func TestHarden(t *testing.T) {
	n := keySets.Add(1)
	cfg := testConfig(tokErrs)
	cfg.SealKeyLabel, cfg.IdentityKeyLabel = fmt.Sprintf("old-seal-%d", n), fmt.Sprintf("old-node-%d", n)
	rw := openRW(t, cfg)
	aesGen := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}
	edGen := []*p11.Mechanism{p11.NewMechanism(ckmECEdwardsKeyPairGen, nil)}
	if _, err := rw.mod.ctx.GenerateKey(rw.sh, aesGen, override(append(sealKeyTemplate(cfg.SealKeyLabel),
		p11.NewAttribute(p11.CKA_WRAP, true), p11.NewAttribute(p11.CKA_DERIVE, true)))); err != nil {
		t.Fatal(err)
	}
	pub, priv := identityTemplates(cfg.IdentityKeyLabel)
	if _, _, err := rw.mod.ctx.GenerateKeyPair(rw.sh, edGen, pub, override(append(priv, p11.NewAttribute(p11.CKA_UNWRAP, true)))); err != nil {
		t.Fatal(err)
	}
	if k, err := Open(cfg, testLogger(t)); err == nil {
		k.Close()
		t.Fatal("precondition: Open took keys that may wrap, derive and unwrap")
	}
	changed, err := Harden(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Harden: %v", err)
	}
	want := []string{"seal key CKA_WRAP", "seal key CKA_DERIVE", "identity key CKA_UNWRAP"}
	for _, w := range want {
		if !slices.Contains(changed, w) {
			t.Errorf("changed %v, want %q among them", changed, w)
		}
	}
	k, err := Open(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open after Harden: %v", err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if again, err := Harden(cfg, testLogger(t)); err != nil || len(again) != 0 {
		t.Fatalf("a second Harden changed %v (%v)", again, err)
	}

	// an imported seal key: Harden cannot make it the token's own
	imported := cfg
	imported.SealKeyLabel = fmt.Sprintf("imported-seal-h-%d", n)
	value := make([]byte, 32)
	_, _ = rand.Read(value)
	if _, err := rw.mod.ctx.CreateObject(rw.sh, append(without(sealKeyTemplate(imported.SealKeyLabel), p11.CKA_VALUE_LEN),
		p11.NewAttribute(p11.CKA_VALUE, value))); err != nil {
		t.Fatal(err)
	}
	_, err = Harden(imported, testLogger(t))
	if !errors.Is(err, hsm.ErrKeyPolicy) || !strings.Contains(err.Error(), "remake it") || !strings.Contains(err.Error(), "CKA_LOCAL is false") {
		t.Fatalf("Harden on an imported key = %v", err)
	}
}
