package audit

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// The crash test re-executes the test binary as a child (TestMain
// dispatches on crashChildEnv) that appends in a loop from several
// goroutines and prints "ack <index> <request id>" after each Append
// returns. The parent SIGKILLs it by PID mid-stream, then checks the file:
// the log opens, verifies, and holds every acknowledged entry.

const (
	crashChildEnv = "COFFER_AUDIT_CRASH_CHILD" // the bbolt file's path
	crashSeedEnv  = "COFFER_AUDIT_CRASH_SEED"  // hex identity seed byte
	crashWorkers  = 16
)

func crashChild() int {
	seed, err := hex.DecodeString(os.Getenv(crashSeedEnv))
	if err != nil || len(seed) != 1 {
		fmt.Fprintln(os.Stderr, "crash child: bad seed")
		return 2
	}
	logger := slogDiscard()
	store, err := ledger.Open(os.Getenv(crashChildEnv), ledger.Options{}, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	ks := memKS(seed[0])
	l, err := New(Config{Cluster: testCluster, Node: "crash"}, Deps{DB: store.DB(), Identity: ks.Identity(), Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	fmt.Println("ready", l.Size())
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Go(func() {
			for i := 0; ; i++ {
				rec := transferRec(i)
				rec.Transfer.RequestID = fmt.Sprintf("pid%d-w%d-%d", os.Getpid(), w, i)
				idx, err := l.Append(context.Background(), rec)
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child: append:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Printf("ack %d %s\n", idx, rec.Transfer.RequestID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

func TestCrashDuringAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	const seed = 0x42
	acked := map[uint64]string{}
	for round, killAfter := range []int{50, 400, 1500} {
		got := runCrashChild(t, path, seed, killAfter)
		for idx, id := range got {
			if prev, ok := acked[idx]; ok && prev != id {
				t.Fatalf("round %d: index %d acknowledged twice (%s, %s)", round, idx, prev, id)
			}
			acked[idx] = id
		}
		t.Logf("round %d: %d acknowledged, %d in total", round, len(got), len(acked))

		n := &testNode{name: "crash", path: path, ks: memKS(seed)}
		n.open(t) // the tail matches the latest signed checkpoint
		size := n.log.Size()
		entries := readAll(t, n.log)
		n.close()
		for idx, id := range acked {
			if idx >= size {
				t.Fatalf("round %d: acknowledged entry %d lost (log size %d)", round, idx, size)
			}
			if got := entries[idx].Record.Transfer.RequestID; got != id {
				t.Fatalf("round %d: entry %d is %s, acknowledged as %s", round, idx, got, id)
			}
		}
		tr := trustOf(t, 0, 0, n)
		if _, err := verifyBundles(t, tr, nil, n.bundle(t)); err != nil {
			t.Fatalf("round %d: Verify after SIGKILL: %v", round, err)
		}
	}
}

// runCrashChild starts the child on the file, reads acknowledgements until
// killAfter of them, SIGKILLs it and returns every acknowledgement read.
func runCrashChild(t *testing.T, path string, seed byte, killAfter int) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashSeedEnv+"="+hex.EncodeToString([]byte{seed}))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	deadline := time.AfterFunc(2*time.Minute, func() { syscall.Kill(cmd.Process.Pid, syscall.SIGKILL) })
	defer deadline.Stop()
	acks := map[uint64]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "ack" {
			idx, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			acks[idx] = f[2]
		}
		if !killed && len(acks) >= killAfter {
			if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !killed || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by our SIGKILL (killed=%v, %v); stderr:\n%s", killed, err, stderr.String())
	}
	return acks
}

func readAll(t testing.TB, l *Log) []Entry {
	t.Helper()
	var out []Entry
	for begin := uint64(0); begin < l.Size(); begin += MaxEntriesPerRead {
		es, err := l.Entries(context.Background(), begin, min(begin+MaxEntriesPerRead, l.Size()))
		if err != nil {
			t.Fatalf("Entries: %v", err)
		}
		out = append(out, es...)
	}
	return out
}
