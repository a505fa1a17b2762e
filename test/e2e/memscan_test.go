package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/signer"
)

// scanMemory counts the occurrences of each pattern in the writable
// mappings of process pid.
func scanMemory(t *testing.T, pid int, patterns map[string][]byte) map[string]int {
	t.Helper()
	maps, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer maps.Close()
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || !strings.HasPrefix(f[1], "rw") {
			continue
		}
		r := strings.SplitN(f[0], "-", 2)
		lo, _ := strconv.ParseUint(r[0], 16, 64)
		hi, _ := strconv.ParseUint(r[1], 16, 64)
		if hi-lo > 1<<30 {
			continue
		}
		buf := make([]byte, hi-lo)
		n, _ := mem.ReadAt(buf, int64(lo))
		buf = buf[:n]
		for name, p := range patterns {
			counts[name] += bytes.Count(buf, p)
		}
	}
	return counts
}

// TestShareMemoryScan reads a real node's memory (/proc/PID/mem) after
// three signing sessions and counts copies of its share's secret Xi: as
// the big.Int's words (little-endian limbs), as 32 big-endian bytes, and
// as the decimal digits of the sealed encoding. The share is zeroed limb
// by limb when each session ends, the Go plaintext is cleared after
// decoding, and the C heap overwrites the PKCS#11 binding's decrypt
// buffer when it is freed (harden.Process): no copy in any form may
// remain (3 decimal copies did before the C heap was cleared).
func TestShareMemoryScan(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	all := []string{"node1", "node2", "node3"}
	if _, err := keygen(c, "node1", "scan", 1, all, nil); err != nil {
		t.Fatal(err)
	}
	c.StopNode("node1")
	var patterns map[string][]byte
	err := c.Layout.WithNode("node1", func(cfg *signer.Config, d signer.Deps) error {
		sh, err := signer.UnsealShare(context.Background(), cfg, d, "scan")
		if err != nil {
			return err
		}
		be := sh.Data.Xi.FillBytes(make([]byte, 32))
		le := make([]byte, 32)
		for i := range be {
			le[i] = be[31-i]
		}
		patterns = map[string][]byte{"xi-be": be, "xi-le": le, "xi-dec": []byte(sh.Data.Xi.String())}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartNode(context.Background(), "node1"); err != nil {
		t.Fatal(err)
	}
	if got := scanMemory(t, c.PID("node1"), patterns); got["xi-le"]+got["xi-be"]+got["xi-dec"] != 0 {
		t.Fatalf("node1 holds its share before any session (it is unsealed lazily): %v", got)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := selfTestSign(c, "scan", []string{"node1", "node2"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	got := scanMemory(t, c.PID("node1"), patterns)
	t.Logf("copies of node1's Xi after 3 sessions: %v", got)
	if got["xi-le"] != 0 || got["xi-be"] != 0 || got["xi-dec"] != 0 {
		t.Fatalf("the share's secret is still in memory: %v", got)
	}
}
