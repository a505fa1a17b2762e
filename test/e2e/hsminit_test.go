package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/hsm/softhsm"
)

// TestHSMInit provisions a fresh token with `cofferd hsm init`, as an
// operator with a real HSM would, and refuses to do it twice.
func TestHSMInit(t *testing.T) {
	dir := t.TempDir()
	conf, err := softhsm.WriteConf(filepath.Join(dir, "softhsm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := softhsm.InitToken(context.Background(), conf, "ops-token", "so-secret-1", "user-secret-1"); err != nil {
		t.Fatal(err)
	}
	module, err := softhsm.ModulePath()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pin"), []byte("user-secret-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("node: node1\ncluster: ops\nhsm:\n  softhsm2_conf: %s\n  pkcs11:\n    module: %s\n    token_label: ops-token\n    pin_file: pin\n", conf, module)
	cfgPath := filepath.Join(dir, "node.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() (string, error) {
		out, err := exec.Command(filepath.Join(binDir, "cofferd"), "hsm", "init", "--config", cfgPath).CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil {
		t.Fatalf("hsm init: %v\n%s", err, out)
	}
	line := strings.TrimSpace(out[strings.LastIndex(out, "identity_key: ")+len("identity_key: "):])
	if k, err := hex.DecodeString(line); err != nil || len(k) != 32 {
		t.Fatalf("no identity key printed: %q", out)
	}
	out, err = run()
	if err == nil || !strings.Contains(out, "exists") {
		t.Fatalf("second hsm init did not refuse: %v\n%s", err, out)
	}
	if strings.Contains(out, "user-secret-1") {
		t.Fatal("PIN printed")
	}
}
