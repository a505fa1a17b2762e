package pkcs11

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/hsmtest"
)

var keySets atomic.Int64

// newSoftHSMKeystore provisions a fresh seal and identity key set (new
// labels, alternating between two tokens of the one module) and opens it.
// Session pools of 1, 2 and 4 exercise contention.
func newSoftHSMKeystore(t *testing.T) hsm.Keystore {
	n := keySets.Add(1)
	cfg := testConfig([]string{tokConfA, tokConfB}[n%2])
	cfg.SealKeyLabel = fmt.Sprintf("seal-%d", n)
	cfg.IdentityKeyLabel = fmt.Sprintf("node-%d", n)
	cfg.Sessions = []int{1, 2, 4}[n%3]
	log := testLogger(t)
	if _, err := Provision(cfg, log); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	k, err := Open(cfg, log)
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

func TestConformance(t *testing.T) { hsmtest.Run(t, newSoftHSMKeystore) }

// openTest opens a test token or fails the test; Close runs at cleanup.
func openTest(t testing.TB, cfg Config) *Keystore {
	t.Helper()
	k, err := Open(cfg, testLogger(t))
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
