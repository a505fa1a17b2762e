package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/devcluster"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

var binDir string

// TestMain builds coffer and cofferd once for the package.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "coffer-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root, err := repoRoot()
	if err == nil {
		cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/coffer", "./cmd/cofferd")
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		err = cmd.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.Exit(1)
	}
	binDir = dir
	ctss.QuietLibrary()
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func fixtureFile(t *testing.T) string {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "signer", "tss", "testdata", "preparams.json")
}

// startCluster makes a 3-node cluster in a temp dir with fixture
// pre-parameters sealed into each pool (three sets per node), starts it and
// stops every process by PID at cleanup. One per test binary: SoftHSM reads
// its conf once per process.
func startCluster(t *testing.T, timeout time.Duration) *devcluster.Cluster {
	t.Helper()
	return startClusterN(t, 3, timeout)
}

// startClusterN is startCluster with nodes nodes (at most 5: the fixture
// holds 15 pre-parameter sets, three per node for the treasury's keys).
func startClusterN(t *testing.T, nodes int, timeout time.Duration) *devcluster.Cluster {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	l, err := devcluster.Init(ctx, dir, devcluster.Options{Nodes: nodes, SelfTestSigning: true, PoolSize: 0,
		SessionTimeout: timeout, LogLevel: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string][]int{}
	for i, n := range l.Nodes {
		sets[n.ID] = []int{i, i + nodes, i + 2*nodes}
	}
	err = l.ImportPreParams(ctx, fixtureFile(t), sets)
	if err != nil {
		t.Fatal(err)
	}
	c, err := devcluster.Start(ctx, l, filepath.Join(binDir, "cofferd"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			for _, n := range l.Nodes {
				t.Logf("--- %s log tail:\n%s", n.ID, c.LogTail(n.ID, 15))
			}
		}
	})
	return c
}
