package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/softhsm"
)

// TestModuleRegistry opens keystores on several tokens of one module, and
// one token twice: the module is initialized once and finalized after the
// last Close; a second Open of a logged-in token must still prove its PIN.
func TestModuleRegistry(t *testing.T) {
	if len(modules.loaded) != 0 {
		t.Fatalf("%d modules loaded before the test", len(modules.loaded))
	}
	log := testLogger(t)
	a, err := Open(testConfig(tokNode1), log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(testConfig(tokNode2), log)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := Open(testConfig(tokNode1), log)
	if err != nil {
		t.Fatalf("second Open of a token: %v", err)
	}
	if a.mod != b.mod || a.mod != a2.mod || len(modules.loaded) != 1 || a.mod.refs != 3 {
		t.Fatalf("module loaded %d times with %d refs, want once with 3", len(modules.loaded), a.mod.refs)
	}
	if n := a.mod.logins[a.cur.Load().tok.slot].refs; n != 2 {
		t.Fatalf("token %s login shared by %d keystores, want 2", tokNode1, n)
	}

	t.Run("fail/wrong-pin-on-logged-in-token", func(t *testing.T) {
		cfg := testConfig(tokNode1)
		cfg.PINFile = writeFile(t, "pin", "not-the-pin")
		if k, err := Open(cfg, log); !errors.Is(err, hsm.ErrLogin) {
			if k != nil {
				k.Close()
			}
			t.Fatalf("Open with a wrong PIN while the token is logged in: err = %v, want ErrLogin", err)
		}
	})

	// Closing one keystore of a token leaves the other one working.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	blob, err := a2.Seal(context.Background(), nil, []byte("still logged in"))
	if err != nil {
		t.Fatalf("Seal after another keystore of the token closed: %v", err)
	}
	if _, err := a2.Open(context.Background(), nil, blob); err != nil {
		t.Fatalf("Open after another keystore of the token closed: %v", err)
	}
	for _, k := range []*Keystore{a2, b} {
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(modules.loaded) != 0 {
		t.Fatalf("module still loaded after the last Close")
	}
	// The module initializes again for the next Open.
	openTest(t, testConfig(tokNode1))
}

// TestTokenInitializedLater is the dev-cluster sequence: InitToken then
// Provision, token after token, in one process. A token made while the
// module is loaded becomes visible once the module has been released.
func TestTokenInitializedLater(t *testing.T) {
	log := testLogger(t)
	for i := range 2 {
		label := fmt.Sprintf("late-%d", keySets.Add(1))
		if err := softhsm.InitToken(context.Background(), env.conf, label, env.soPIN, env.pin); err != nil {
			t.Fatalf("InitToken %d: %v", i, err)
		}
		pub, err := Provision(testConfig(label), log)
		if err != nil {
			t.Fatalf("Provision %d: %v", i, err)
		}
		got, err := PublicIdentity(testConfig(label), log)
		if err != nil || !got.Equal(pub) {
			t.Fatalf("token %s: PublicIdentity = %x, %v; want %x", label, got, err, pub)
		}
		if len(modules.loaded) != 0 {
			t.Fatalf("module still loaded after Provision and PublicIdentity returned")
		}
	}
}
