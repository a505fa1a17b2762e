package vault

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

func TestProvision(t *testing.T) {
	ctx := context.Background()
	names := Config{SealKey: "prov-seal", IdentityKey: "prov-node"}
	pub, err := Provision(ctx, provisionConfig(names), testLogger(t))
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	for _, name := range []string{"prov-seal", "prov-node"} {
		s, err := env.srv.Root().Logical().Read("transit/keys/" + name)
		if err != nil || s == nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if s.Data["exportable"] != false || s.Data["allow_plaintext_backup"] != false || s.Data["deletion_allowed"] != false {
			t.Errorf("%s: exportable=%v allow_plaintext_backup=%v deletion_allowed=%v, want all false",
				name, s.Data["exportable"], s.Data["allow_plaintext_backup"], s.Data["deletion_allowed"])
		}
	}
	// The node token (least privilege) opens what was provisioned; the
	// identity is the one Provision reported.
	k := openTest(t, nodeConfig(names))
	if !k.PublicKey().Equal(pub) {
		t.Fatal("Open's identity differs from Provision's")
	}
	sig, err := k.Identity().Sign(nil, []byte("m"), crypto.Hash(0))
	if err != nil || !ed25519.Verify(pub, []byte("m"), sig) {
		t.Fatalf("Sign: %v", err)
	}

	t.Run("fail/keys exist", func(t *testing.T) {
		_, err := Provision(ctx, provisionConfig(names), testLogger(t))
		if !errors.Is(err, hsm.ErrKeyExists) || !strings.Contains(err.Error(), `"prov-seal"`) {
			t.Fatalf("second Provision: %v", err)
		}
	})
	t.Run("fail/one key exists: neither is created", func(t *testing.T) {
		half := Config{SealKey: "half-seal", IdentityKey: "prov-node"}
		if _, err := Provision(ctx, provisionConfig(half), testLogger(t)); !errors.Is(err, hsm.ErrKeyExists) {
			t.Fatalf("Provision: %v", err)
		}
		if s, _ := env.srv.Root().Logical().Read("transit/keys/half-seal"); s != nil {
			t.Fatal("Provision created the seal key although the identity key existed")
		}
	})
	t.Run("fail/node token may not create keys", func(t *testing.T) {
		_, err := Provision(ctx, nodeConfig(Config{SealKey: "p2-seal", IdentityKey: "p2-node"}), testLogger(t))
		if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "transit/keys/p2-seal") {
			t.Fatalf("Provision with the node token: %v", err)
		}
	})
}
