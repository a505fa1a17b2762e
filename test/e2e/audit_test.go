package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// TestAudit runs hot→cold sweeps on three real nodes, waits until every
// node's latest checkpoint is cosigned by both others, exports every
// node's log through the audit API with `coffer audit export` and an
// auditor certificate, and verifies the bundles offline with `coffer
// audit verify` against a trust file from `coffer audit trust`; then
// shows that a missing bundle and a changed entry are caught and named.
func TestAudit(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 3 * time.Second, SAFUTimelock: 4 * time.Second}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	l := tr.Layout
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets
	for i, amount := range []int64{1_000_000, 700_000} {
		id := fmt.Sprintf("audit-sweep-%d", i+1)
		u := devcluster.FakeUTXO(w["btc-hot"], 2*amount)
		if _, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", amount, u)}); err != nil {
			t.Fatal(err)
		}
		verifyBTC(t, cl.wait(id, "signed"), []*transferpb.UTXO{u})
	}

	t.Run("fail/the audit API refuses other roles", func(t *testing.T) {
		for _, cc := range []devcluster.ClientCert{tr.Withdrawal, tr.Officers["tom"]} {
			a := auditClient(t, l, "node2", cc)
			if _, err := a.Latest(ctx, &auditpb.LatestRequest{}); status.Code(err) != codes.PermissionDenied {
				t.Fatalf("%s: %v", cc.Name, err)
			}
		}
	})
	t.Run("ok/every node's latest checkpoint is cosigned by both others", func(t *testing.T) {
		waitCosigned(t, l, tr.Auditor, 60*time.Second)
	})

	dir := t.TempDir()
	bundles := filepath.Join(dir, "bundles")
	if err := os.Mkdir(bundles, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		out := runCoffer(t, "--cluster", l.Dir, "audit", "export", "--node", n.ID, "--as", tr.Auditor.Name,
			"--out", filepath.Join(bundles, n.ID+".bundle"))
		t.Logf("%s", strings.TrimSpace(out))
	}
	trust := filepath.Join(dir, "trust.yaml")
	if out := runCoffer(t, "--cluster", l.Dir, "audit", "trust", "--out", trust, "--min-cosignatures", "2"); !strings.Contains(out, "3 nodes of cluster dev, t=1, min cosignatures 2") {
		t.Fatalf("trust: %s", out)
	}

	t.Run("ok/the bundles verify: every signature is backed by t+1 decisions", func(t *testing.T) {
		start := time.Now()
		out := runCoffer(t, "audit", "verify", "--trust", trust, bundles)
		t.Logf("verify in %v:\n%s", time.Since(start).Round(time.Millisecond), out)
		m := regexp.MustCompile(`signatures produced: (\d+) checked, (\d+) backed by allow decisions in t\+1 nodes' logs`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] || m[1] == "0" {
			t.Fatalf("signatures line: %v", m)
		}
		for _, want := range []string{"keys PINNED by the trust file", "t=1, min cosignatures 2", "RESULT: OK"} {
			if !strings.Contains(out, want) {
				t.Fatalf("report lacks %q", want)
			}
		}
		if strings.Count(out, "  ok\n") != 3 {
			t.Fatal("want three nodes ok")
		}
	})
	t.Run("ok/every keygen record carries every party's confirmation, signed by its identity key", func(t *testing.T) {
		cfg, err := signer.LoadConfig(l.Path(l.Nodes[0].Config))
		if err != nil {
			t.Fatal(err)
		}
		idKey := map[string]ed25519.PublicKey{}
		for _, m := range cfg.Members {
			k, _ := hex.DecodeString(m.IdentityKey)
			idKey[m.ID] = k
		}
		for _, n := range l.Nodes {
			f, err := os.Open(filepath.Join(bundles, n.ID+".bundle"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := audit.ReadBundle(n.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			keygens := 0
			for {
				leaf, err := b.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rec, err := audit.DecodeRecord(leaf)
				if err != nil || rec.Kind != audit.KindKeyGenerated {
					continue
				}
				keygens++
				k := rec.Key
				if len(k.Confirmations) != len(k.Parties) {
					t.Fatalf("%s: key %s has %d confirmations for %d parties", n.ID, k.KeyID, len(k.Confirmations), len(k.Parties))
				}
				msg := ctss.ConfirmMessage(cfg.Cluster, k.KeyID, k.SessionID, k.Transcript, k.PublicKey)
				for _, c := range k.Confirmations {
					if !ed25519.Verify(idKey[c.Node], msg, c.Signature) {
						t.Fatalf("%s: key %s: %s's confirmation does not verify", n.ID, k.KeyID, c.Node)
					}
				}
			}
			f.Close()
			if keygens == 0 {
				t.Fatalf("%s logged no keygen", n.ID)
			}
		}
	})
	t.Run("fail/a missing node's bundle is named", func(t *testing.T) {
		partial := filepath.Join(dir, "partial")
		copyBundles(t, bundles, partial, "node2")
		out := runCofferFail(t, "audit", "verify", "--trust", trust, partial)
		if !strings.Contains(out, "RESULT: FAIL: first bad: node coffer/dev/node2: "+audit.ErrMissingNode.Error()) {
			t.Fatalf("report:\n%s", out)
		}
		t.Logf("%s", out[strings.Index(out, "RESULT:"):])
	})
	t.Run("fail/a changed entry is named", func(t *testing.T) {
		changed := filepath.Join(dir, "changed")
		copyBundles(t, bundles, changed, "")
		// node1 is the home of the transfers and a signer of each: its log
		// holds decisions (a node outside every session holds none)
		idx := changeEntry(t, filepath.Join(changed, "node1.bundle"), `"kind":"decision"`, `"reason":"`, `"reason":"X`)
		out := runCofferFail(t, "audit", "verify", "--trust", trust, changed)
		m := regexp.MustCompile(`RESULT: FAIL: first bad: node coffer/dev/node1: (?:entry (\d+)|entries (\d+)\.\.(\d+)): audit: entries do not match`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("report:\n%s", out)
		}
		first, _ := strconv.ParseUint(m[1]+m[2], 10, 64)
		last := first
		if m[3] != "" {
			last, _ = strconv.ParseUint(m[3], 10, 64)
		}
		if idx < first || idx > last {
			t.Fatalf("changed entry %d, report names %d..%d", idx, first, last)
		}
		t.Logf("changed entry %d of node1: %s", idx, m[0])
	})
}

func auditClient(t *testing.T, l *devcluster.Layout, node string, cc devcluster.ClientCert) auditpb.AuditClient {
	t.Helper()
	c, err := l.DialAs(node, cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.Audit()
}

// waitCosigned polls every node until all of their latest checkpoints
// carry the cosignatures of all other nodes at once.
func waitCosigned(t *testing.T, l *devcluster.Layout, cc devcluster.ClientCert, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last []string
	for time.Now().Before(deadline) {
		last = last[:0]
		done := true
		for _, n := range l.Nodes {
			sc, err := auditClient(t, l, n.ID, cc).Latest(context.Background(), &auditpb.LatestRequest{})
			if err != nil {
				t.Fatal(err)
			}
			last = append(last, fmt.Sprintf("%s size %d cosigned by %v", n.ID, sc.Size, sc.Cosigners))
			if len(sc.Cosigners) != len(l.Nodes)-1 || sc.Size == 0 {
				done = false
			}
		}
		if done {
			t.Logf("cosigned: %s", strings.Join(last, "; "))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("not cosigned within %v: %s", limit, strings.Join(last, "; "))
}

func copyBundles(t *testing.T, from, to, skip string) {
	t.Helper()
	if err := os.Mkdir(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == skip+".bundle" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(to, e.Name()), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// changeEntry edits the first entry line of a bundle that contains kind,
// replacing old with new (a record that still decodes), and returns the
// entry's index.
func changeEntry(t *testing.T, path, kind, old, new string) uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if !bytes.HasPrefix(line, []byte(`{"v":`)) || !bytes.Contains(line, []byte(kind)) || !bytes.Contains(line, []byte(old)) {
			continue
		}
		lines[i] = bytes.Replace(line, []byte(old), []byte(new), 1)
		rec, err := audit.DecodeRecord(lines[i])
		if err != nil {
			t.Fatalf("the changed entry no longer decodes: %v", err)
		}
		if err := os.WriteFile(path, bytes.Join(lines, []byte("\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return rec.Index
	}
	t.Fatalf("no %s entry in %s", kind, path)
	return 0
}

// runCofferFail runs the CLI expecting a non-zero exit and returns its
// output.
func runCofferFail(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "coffer"), args...).CombinedOutput()
	if err == nil {
		t.Fatalf("coffer %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}
