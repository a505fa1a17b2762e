package vault

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/hsmtest"
)

var keySets atomic.Int64

// newVaultKeystore provisions a fresh transit key pair (new names) and
// opens it with the node token.
func newVaultKeystore(t *testing.T) hsm.Keystore {
	n := keySets.Add(1)
	names := Config{SealKey: fmt.Sprintf("seal-%d", n), IdentityKey: fmt.Sprintf("node-%d", n)}
	log := testLogger(t)
	if _, err := Provision(context.Background(), provisionConfig(names), log); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return openTest(t, nodeConfig(names))
}

func TestConformance(t *testing.T) { hsmtest.Run(t, newVaultKeystore) }

// openTest opens a keystore or fails the test; Close runs at cleanup.
func openTest(t testing.TB, cfg Config) *Keystore {
	t.Helper()
	k, err := Open(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil && !errors.Is(err, hsm.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return k
}
