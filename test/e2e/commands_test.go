package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runCoffer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "coffer"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDemo runs `coffer demo` as a newcomer would (with fixture
// pre-parameters instead of waiting for safe primes) and checks its story.
func TestDemo(t *testing.T) {
	out := runCoffer(t, "demo", "--preparams", fixtureFile(t), "--dir", filepath.Join(t.TempDir(), "demo"))
	for _, want := range []string{
		"round 3/3", "key hot-1  generation 0  2-of-3", "bitcoin     bcrt1q", "ethereum    0x",
		"node1+node2", "node2+node3", "node1+node3", "verified with crypto/ecdsa: true",
		"child public key", "refused:", "threshold needs 2", "Demo complete.", "nodes stopped by PID",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "verified with crypto/ecdsa: false") {
		t.Fatal("a demo signature did not verify")
	}
}

// TestBenchSignReportsJSON runs a tiny `coffer bench sign` and checks the
// report's last line (figures are measured by `make bench`, not asserted).
func TestBenchSignReportsJSON(t *testing.T) {
	out := runCoffer(t, "bench", "sign", "--count", "2", "--concurrency", "1", "--warmup", "0", "--preparams", fixtureFile(t),
		"--dir", filepath.Join(t.TempDir(), "bench"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	var report map[string]float64
	if err := json.Unmarshal([]byte(last), &report); err != nil {
		var loose map[string]any
		if json.Unmarshal([]byte(last), &loose) != nil {
			t.Fatalf("no JSON report in:\n%s", out)
		}
		report = map[string]float64{}
		for k, v := range loose {
			if f, ok := v.(float64); ok {
				report[k] = f
			}
		}
	}
	for _, k := range []string{"raw_p50_ms", "cluster_p50_ms", "ratio_p50", "raw_sigs_per_s", "cluster_sigs_per_s"} {
		if report[k] <= 0 {
			t.Fatalf("report lacks a positive %s: %s", k, last)
		}
	}
}
