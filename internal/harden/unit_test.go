package harden

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped systemd unit repeats the process hardening (no core dumps)
// and adds what only the service manager can do (no swap, no new
// privileges, a read-only system), and systemd itself reads every line
// of it: an unknown key or section is an error, not a silent no-op.
func TestSystemdUnit(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "systemd", "cofferd.service")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && !strings.HasPrefix(l, "#") {
			set[k] = v
		}
	}
	for k, want := range map[string]string{"LimitCORE": "0", "MemorySwapMax": "0", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "UMask": "0077", "CapabilityBoundingSet": "",
		"Restart": "on-failure"} {
		if got, ok := set[k]; !ok || got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if strings.Contains(set["SystemCallFilter"], "@resources") {
		t.Error("the syscall filter denies setrlimit: cofferd could not set its core limit and would not start")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed to check the unit (Debian package systemd; make deps installs it)")
	}
	// verify a copy whose ExecStart exists on this machine
	unit := filepath.Join(t.TempDir(), "cofferd.service")
	self, _ := os.Executable()
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/cofferd", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(analyze, "verify", "--man=no", unit).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "Unknown") || strings.Contains(l, "Invalid") || strings.Contains(l, "Failed to parse") {
			t.Errorf("systemd: %s", l)
		}
	}
}
