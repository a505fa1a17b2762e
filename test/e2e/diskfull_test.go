package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// TestDiskFull puts node3's store on a small tmpfs and fills it: node3
// must then refuse to sign (nothing is signed without it, node2 being
// stopped), say "no space left on device" in its log and to the client,
// and take up the request by itself once space is freed, with no restart.
// Mounting the tmpfs needs root, as `make test` has (it installs
// packages); without it the test fails, it is not skipped.
func TestDiskFull(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 3 * time.Second, SAFUTimelock: 3 * time.Second}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	l := tr.Layout
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets

	c.StopNode("node3")
	n3, _ := l.Node("node3")
	store := l.Path(n3.Store)
	mnt := filepath.Join(t.TempDir(), "small-disk")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a 32 MiB tmpfs for node3's store (needs root, as make test has): %v: %s", err, out)
	}
	t.Cleanup(func() {
		c.Stop() // nothing may hold the mount
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	// the store and the raft directory move to the small disk (the log,
	// the config and the token stay, as on a host whose data disk fills)
	raftDir := filepath.Join(filepath.Dir(store), "raft")
	copySparse(t, store, filepath.Join(mnt, "node.db"))
	copyTree(t, raftDir, filepath.Join(mnt, "raft"))
	for _, p := range []string{store, raftDir} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(mnt, filepath.Base(p)), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.StartNode(ctx, "node3"); err != nil {
		t.Fatalf("start node3 on the small disk: %v", err)
	}
	waitCaughtUp(t, c)

	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	c.StopNode("node2") // node1 and node3 must both write now
	n3c := cl.as("node3", tr.Withdrawal)
	full := func() bool { return strings.Contains(c.LogTail("node3", 5000), "no space left on device") }
	// the files' free pages take small writes in place: sweeps (homed on
	// node3) go on until its store or raft log must grow into the full disk
	sweeps := 0
	for ; sweeps < 60 && !full(); sweeps++ {
		id := fmt.Sprintf("filling-%d", sweeps)
		in := devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", 10_000+int64(sweeps), devcluster.FakeUTXO(w["btc-hot"], 200_000))
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := n3c.Submit(sctx, &transferpb.SubmitRequest{Intent: in})
		cancel()
		if err != nil {
			t.Logf("sweep %d refused: %v", sweeps, err)
			break
		}
		if got, err := devcluster.Wait(ctx, n3c, id, 10*time.Second, "signed", "denied"); err != nil || got.State != "signed" {
			break // not signed in time: the disk is full, or about to say so
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !full() {
		if time.Now().After(deadline) {
			t.Fatalf("node3's log never said \"no space left on device\" (%d sweeps):\n%s", sweeps, c.LogTail("node3", 30))
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("the disk filled after %d sweeps", sweeps)
	in := devcluster.BTCIntent("while-full", w["btc-hot"], "btc-cold", 14_000, devcluster.FakeUTXO(w["btc-hot"], 200_000))

	t.Run("fail/with its disk full node3 takes nothing, signs nothing and says why", func(t *testing.T) {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		_, err := n3c.Submit(sctx, &transferpb.SubmitRequest{Intent: in})
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "no space left on device") {
			t.Fatalf("submit at node3 with its disk full: %v; want Unavailable saying \"no space left on device\"; node3's errors:\n%s",
				err, errorLines(c.LogTail("node3", 3000)))
		}
		t.Logf("the client is told: %v", err)
		got, err := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "while-full"})
		if status.Code(err) != codes.NotFound && (err != nil || got.State == "signed") {
			t.Fatalf("node1 has while-full as %v (%v): want it unknown or unsigned", got, err)
		}
	})
	t.Run("ok/space freed, node3 takes the request by itself and it is signed, without a restart", func(t *testing.T) {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		freed := time.Now()
		// the client retries its submission (same request ID, same intent)
		for {
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			_, err := n3c.Submit(sctx, &transferpb.SubmitRequest{Intent: in})
			cancel()
			if err == nil {
				break
			}
			if time.Since(freed) > 90*time.Second {
				t.Fatalf("node3 still refuses 90 s after space was freed: %v", err)
			}
			time.Sleep(time.Second)
		}
		got := cl.wait("while-full", "signed", "denied", "expired")
		if got.State != "signed" {
			t.Fatalf("after freeing space: %s (%s)", got.State, got.Reason)
		}
		t.Logf("signed %v after space was freed", time.Since(freed).Round(100*time.Millisecond))
		if !strings.Contains(c.LogTail("node3", 1<<20), `"request":"while-full"`) {
			t.Fatal("node3 took no part in while-full")
		}
	})
}

// errorLines are the ERROR lines of a log, but raft's dial failures.
func errorLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) && !strings.Contains(l, "connection refused") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// copySparse copies the file at from to to, leaving its zero blocks as
// holes: the pages bbolt has not used yet then take space only when it
// writes them, as on a disk it grew the file on.
func copySparse(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const block = 4096
	for off := 0; off < len(data); off += block {
		b := data[off:min(off+block, len(data))]
		if bytes.Count(b, []byte{0}) == len(b) {
			continue
		}
		if _, err := out.WriteAt(b, int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Truncate(int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the directory from (files sparse) to to.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Mkdir(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		switch {
		case e.IsDir():
			copyTree(t, src, dst)
		case e.Type().IsRegular():
			copySparse(t, src, dst)
		default:
			t.Fatalf("copy %s: not a file or directory", src)
		}
	}
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for range 1 << 14 { // at most 1 GiB: the tmpfs is far smaller
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			return
		}
	}
	t.Fatalf("fill %s: 1 GiB written and not full", path)
}
