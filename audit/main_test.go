package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/softhsm"
)

// The SoftHSM tests share one token, initialized by TestMain in a temp
// dir; each test provisions its own identity key in it. TestMain fails,
// never skips, when SoftHSM2 is missing. When crashChildEnv is set, the
// binary is the child of TestCrashDuringAppends instead (crash_test.go).

const hsmToken = "audit"

var hsmEnv struct {
	module, pinFile string
}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	module, err := softhsm.ModulePath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: audit tests need SoftHSM2 and do not skip without it: %v\n"+
			"Install it (make test does): sudo apt-get install -y softhsm2\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "coffer-audit-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setupHSM(dir, module); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set up SoftHSM token:", err)
		return 1
	}
	return m.Run()
}

func setupHSM(dir, module string) error {
	pin, soPIN := randomPIN(), randomPIN()
	hsmEnv.module, hsmEnv.pinFile = module, filepath.Join(dir, "user.pin")
	if err := os.WriteFile(hsmEnv.pinFile, []byte(pin+"\n"), 0o600); err != nil {
		return err
	}
	conf, err := softhsm.WriteConf(dir)
	if err != nil {
		return err
	}
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return softhsm.InitToken(ctx, conf, hsmToken, soPIN, pin)
}

func randomPIN() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var keySets atomic.Int64

// softHSM provisions a fresh identity (and sealing) key in the test token
// and opens it; it is closed at cleanup.
func softHSM(t testing.TB) *pkcs11.Keystore {
	t.Helper()
	n := keySets.Add(1)
	cfg := pkcs11.Config{Module: hsmEnv.module, TokenLabel: hsmToken, PINFile: hsmEnv.pinFile,
		SealKeyLabel: fmt.Sprintf("seal-%d", n), IdentityKeyLabel: fmt.Sprintf("node-%d", n), Sessions: 8}
	log := testLogger(t)
	if _, err := pkcs11.Provision(cfg, log); err != nil {
		t.Fatalf("provision SoftHSM keys: %v", err)
	}
	k, err := pkcs11.Open(cfg, log)
	if err != nil {
		t.Fatalf("open SoftHSM keystore: %v", err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil && !errors.Is(err, hsm.ErrClosed) {
			t.Errorf("close SoftHSM keystore: %v", err)
		}
	})
	return k
}
