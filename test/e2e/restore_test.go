package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/internal/devcluster"
	bolt "go.etcd.io/bbolt"
)

// runCofferd runs cofferd with args and returns its output and whether it
// exited 0.
func runCofferd(t *testing.T, c *devcluster.Cluster, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "cofferd"), args...)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+c.Layout.SoftHSM2Conf)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("cofferd %s: %v", strings.Join(args, " "), err)
	}
	return string(out), err == nil
}

// bundleLeaves reads every entry of a bundle file.
func bundleLeaves(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := audit.ReadBundle(path, f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		leaf, err := b.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(leaf))
	}
}

// TestRestore is the runbook of README "Restoring a node", run for real: a
// snapshot of node3's store is taken, node3 signs more after it, an
// auditor exports node3's log, then a byte of an audit entry in node3's
// store is flipped while it is stopped. node3 refuses to start, and
// `cofferd store check` names the file and the entry. A restore from the
// snapshot alone is refused (its audit log is behind what node3 signed);
// with the auditor's bundle as the tail it succeeds, node3 catches up from
// the replicated log, serves every result, signs again, and every node's
// audit log verifies with node3's holding every record it held before.
func TestRestore(t *testing.T) {
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
	signed := map[string][]byte{}
	// sweep is signed by node1 and node3: node2 is stopped meanwhile
	sweep := func(id string, amount int64) {
		t.Helper()
		c.StopNode("node2")
		in := devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", amount, devcluster.FakeUTXO(w["btc-hot"], 200_000))
		if _, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
			t.Fatalf("submit %s: %v", id, err)
		}
		got := cl.wait(id, "signed", "denied")
		if got.State != "signed" {
			t.Fatalf("%s: %s (%s)", id, got.State, got.Reason)
		}
		signed[id] = got.SignedTx
		if err := c.StartNode(ctx, "node2"); err != nil {
			t.Fatalf("restart node2: %v", err)
		}
		waitCaughtUp(t, c)
	}
	n3, _ := l.Node("node3")
	cfg3 := l.Path(n3.Config)
	store3 := l.Path(n3.Store)
	dir := t.TempDir()

	sweep("before-snapshot", 11_000)
	snap := filepath.Join(dir, "node3.snapshot")
	out := runCoffer(t, "--cluster", l.Dir, "backup", "--node", "node3", "--snapshot", snap)
	t.Logf("%s", strings.TrimSpace(out))
	sweep("after-snapshot", 12_000)

	// the auditors' regular export of node3's log, once it is cosigned
	waitCosigned(t, l, tr.Auditor, 60*time.Second)
	tail := filepath.Join(dir, "node3-tail.bundle")
	runCoffer(t, "--cluster", l.Dir, "audit", "export", "--node", "node3", "--as", tr.Auditor.Name, "--out", tail)
	before := bundleLeaves(t, tail)
	c.StopNode("node3")

	// flip a byte of node3's last audit entry (the decision or signature
	// record of after-snapshot) inside node.db
	data, err := os.ReadFile(store3)
	if err != nil {
		t.Fatal(err)
	}
	last := before[len(before)-1]
	at := bytes.Index(data, last)
	if at < 0 {
		t.Fatalf("node3's last audit entry is not found in %s", store3)
	}
	for i := at; i >= 0; i = bytes.Index(data, last) { // every copy, freed pages too
		data[i+len(last)/2] ^= 0x01
	}
	if err := os.WriteFile(store3, data, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("fail/a node with a damaged audit entry refuses to start, naming the file and the entry", func(t *testing.T) {
		if err := c.StartNode(ctx, "node3"); err == nil {
			t.Fatal("node3 started on a damaged store")
		}
		logTail := c.LogTail("node3", 50)
		for _, want := range []string{store3, "audit entr", "Restoring a node"} {
			if !strings.Contains(logTail, want) {
				t.Fatalf("node3's log does not say %q:\n%s", want, logTail)
			}
		}
		out, ok := runCofferd(t, c, "store", "check", "--config", cfg3)
		t.Logf("store check: %s", strings.TrimSpace(out))
		if ok || !strings.Contains(out, store3) || !strings.Contains(out, "audit entr") {
			t.Fatalf("cofferd store check on the damaged store (exit 0: %v):\n%s", ok, out)
		}
	})
	t.Run("fail/a restore from the snapshot alone is refused: its audit log is behind what node3 signed", func(t *testing.T) {
		out, ok := runCofferd(t, c, "store", "restore", "--config", cfg3, "--from", snap)
		t.Logf("restore without the tail: %s", strings.TrimSpace(out))
		if ok || !strings.Contains(out, "--audit-tail") || !strings.Contains(out, "behind") {
			t.Fatalf("restore without the tail (exit 0: %v):\n%s", ok, out)
		}
		if _, err := os.Stat(store3); err != nil {
			t.Fatalf("the refused restore moved the store: %v", err)
		}
	})
	t.Run("ok/restored from the snapshot and the auditors' bundle, node3 catches up, signs again, and its log verifies whole", func(t *testing.T) {
		out, ok := runCofferd(t, c, "store", "restore", "--config", cfg3, "--from", snap, "--audit-tail", tail)
		t.Logf("%s", strings.TrimSpace(out))
		if !ok || !regexp.MustCompile(`\(\d+ put back from the tail`).MatchString(out) || strings.Contains(out, "(0 put back") {
			t.Fatalf("restore with the tail failed or put nothing back:\n%s", out)
		}
		if out, ok := runCofferd(t, c, "store", "check", "--config", cfg3); !ok {
			t.Fatalf("store check after the restore:\n%s", out)
		}
		if err := c.StartNode(ctx, "node3"); err != nil {
			t.Fatalf("start restored node3: %v\n%s", err, c.LogTail("node3", 30))
		}
		waitCaughtUp(t, c)
		n3c := cl.as("node3", tr.Withdrawal)
		for id, tx := range signed {
			got, err := n3c.Get(ctx, &transferpb.GetRequest{RequestId: id})
			if err != nil || got.State != "signed" || !bytes.Equal(got.SignedTx, tx) {
				t.Fatalf("restored node3 serves %s as %v (%v)", id, got, err)
			}
		}
		sweep("after-restore", 13_000)
		if !strings.Contains(c.LogTail("node3", 5000), `"request":"after-restore"`) {
			t.Fatal("restored node3 took no part in after-restore")
		}

		waitCosigned(t, l, tr.Auditor, 60*time.Second)
		bundles := filepath.Join(dir, "bundles")
		if err := os.Mkdir(bundles, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range l.Nodes {
			runCoffer(t, "--cluster", l.Dir, "audit", "export", "--node", n.ID, "--as", tr.Auditor.Name,
				"--out", filepath.Join(bundles, n.ID+".bundle"))
		}
		after := bundleLeaves(t, filepath.Join(bundles, "node3.bundle"))
		if len(after) <= len(before) {
			t.Fatalf("node3's log has %d entries after the restore, %d before", len(after), len(before))
		}
		for i := range before {
			if !bytes.Equal(before[i], after[i]) {
				t.Fatalf("node3's audit entry %d changed across the restore", i)
			}
		}
		trust := filepath.Join(dir, "trust.yaml")
		runCoffer(t, "--cluster", l.Dir, "audit", "trust", "--out", trust, "--min-cosignatures", "1")
		out = runCoffer(t, "audit", "verify", "--trust", trust, bundles)
		if !strings.Contains(out, "RESULT: OK") {
			t.Fatalf("audit verify after the restore:\n%s", out)
		}
		t.Logf("node3's log: %d entries before the damage, %d after the restore and one more sweep; verify OK", len(before), len(after))
	})
}

// exportOffline exports the audit log of a stopped node's store into a
// bundle file, as `coffer audit export` would have from the running node.
func exportOffline(t *testing.T, store string) string {
	t.Helper()
	db, err := bolt.Open(store, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(t.TempDir(), filepath.Base(filepath.Dir(store))+".bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := audit.Export(context.Background(), db, f); err != nil {
		t.Fatal(err)
	}
	return path
}
