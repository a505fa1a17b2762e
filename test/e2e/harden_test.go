package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestProcessHardened: every real cofferd runs with a core-file limit of
// 0 (soft and hard, as /proc/PID/limits shows) and says, from the
// kernel's answer, that it is not dumpable: no core dump and no ptrace or
// /proc/PID/mem reader of the same user sees a share.
func TestProcessHardened(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	for _, n := range c.Layout.Nodes {
		limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", c.PID(n.ID)))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range strings.Split(string(limits), "\n") {
			if strings.HasPrefix(l, "Max core file size") {
				found = true
				if f := strings.Fields(l); len(f) < 6 || f[4] != "0" || f[5] != "0" {
					t.Fatalf("%s: %q", n.ID, l)
				}
			}
		}
		if !found {
			t.Fatalf("%s: no core file size in its limits", n.ID)
		}
		if log := c.LogTail(n.ID, 200); !strings.Contains(log, `"msg":"process hardened","core_limit":0,"dumpable":false`) {
			t.Fatalf("%s did not report itself hardened:\n%s", n.ID, log)
		}
	}
}
