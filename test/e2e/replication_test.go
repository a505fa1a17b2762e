package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// downFor is how long node3 stays down (the two minutes with
// COFFER_E2E_LONG=1; the catch-up path is the same either way).
func downFor() time.Duration {
	if os.Getenv("COFFER_E2E_LONG") != "" {
		return 2 * time.Minute
	}
	return 10 * time.Second
}

type replRow struct {
	Node    string   `json:"node"`
	State   string   `json:"state"`
	Leader  string   `json:"leader"`
	Applied uint64   `json:"applied_index"`
	Lag     uint64   `json:"lag"`
	Voters  []string `json:"voters"`
	Error   string   `json:"error"`
}

func clusterStatus(t *testing.T, c *devcluster.Cluster) []replRow {
	t.Helper()
	out, _ := cliRun(t, c.Layout.Dir, nil, "", "--cluster", c.Layout.Dir, "cluster", "status", "--json")
	var rows []replRow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r replRow
		if err := json.Unmarshal([]byte(line), &r); err == nil && r.Node != "" {
			rows = append(rows, r)
		}
	}
	return rows
}

// waitCaughtUp waits until every node answers and none lags.
func waitCaughtUp(t *testing.T, c *devcluster.Cluster) []replRow {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows := clusterStatus(t, c)
		ok := len(rows) == len(c.Layout.Nodes)
		leaders := map[string]bool{}
		for _, r := range rows {
			ok = ok && r.Error == "" && r.Lag == 0 && r.Leader != ""
			leaders[r.Leader] = true
		}
		if ok && len(leaders) == 1 {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes did not catch up: %+v", rows)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestReplication: the replicated ledger on three real nodes. A node killed
// (SIGKILL) during a burst of submissions catches up when it restarts, serves
// every result (also those it did not sign) and signs a request submitted
// while it was down; the same after its ledger and raft directory are
// deleted (its HSM token kept): it recovers its sealed shares from the log.
func TestReplication(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 3 * time.Second, SAFUTimelock: 3 * time.Second}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets

	rows := waitCaughtUp(t, c)
	t.Logf("cluster status: %+v", rows)

	// a burst of sweeps at node1 and node2; node3 is killed in the middle
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 8 {
		home := []string{"node1", "node2"}[i%2]
		id := fmt.Sprintf("burst-%d", i)
		ids = append(ids, id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", 10_000+int64(i), devcluster.FakeUTXO(w["btc-hot"], 200_000))
			if _, err := cl.as(home, tr.Withdrawal).Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
				mu.Lock()
				t.Errorf("submit %s at %s: %v", id, home, err)
				mu.Unlock()
			}
		}()
		if i == 3 {
			c.KillNode("node3")
		}
	}
	wg.Wait()
	// a refill submitted while node3 is down, approved later
	refill, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.BTCIntent("refill-while-down",
		w["btc-cold"], "btc-hot", 1_000_000, devcluster.FakeUTXO(w["btc-cold"], 2_000_000))})
	if err != nil {
		t.Fatal(err)
	}
	signed := map[string]*transferpb.Transfer{}
	for _, id := range ids {
		signed[id] = cl.wait(id, "signed", "denied") // a failed session is retried
		if signed[id].State != "signed" {
			t.Fatalf("%s: %s (%s)", id, signed[id].State, signed[id].Reason)
		}
	}
	time.Sleep(downFor())

	restartAndCheck := func(t *testing.T) {
		if err := c.StartNode(ctx, "node3"); err != nil {
			t.Fatalf("restart node3: %v", err)
		}
		waitCaughtUp(t, c)
		n3 := cl.as("node3", tr.Withdrawal)
		for _, id := range ids {
			got, err := n3.Get(ctx, &transferpb.GetRequest{RequestId: id})
			if err != nil || got.State != "signed" || !bytes.Equal(got.SignedTx, signed[id].SignedTx) {
				t.Fatalf("node3 serves %s as %v (%v), not the signed transaction", id, got, err)
			}
		}
	}
	t.Run("ok/a node killed during a burst catches up and serves every result", restartAndCheck)

	// node3 signs what was submitted while it was down: node2 is stopped,
	// so node1 and node3 are the only signers
	signWithNode3 := func(t *testing.T, id string, approve bool, in *transferpb.Intent) {
		c.StopNode("node2")
		defer func() {
			if err := c.StartNode(ctx, "node2"); err != nil {
				t.Fatalf("restart node2: %v", err)
			}
			waitCaughtUp(t, c)
		}()
		if in != nil {
			got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: in})
			if err != nil {
				t.Fatal(err)
			}
			refill = got
		}
		if approve {
			for _, o := range []string{"tom", "tina"} {
				if _, err := cl.decideAt("node3", o, "approve", refill, refill.Digest); err != nil {
					t.Fatal(err)
				}
			}
		}
		// node3 saw the request only when it caught up: its own timelock
		// runs from then, so a first session may fail on it and be retried
		done := cl.wait(id, "signed", "denied")
		if done.State != "signed" {
			t.Fatalf("%s: %s (%s)", id, done.State, done.Reason)
		}
		got, err := cl.as("node3", tr.Withdrawal).Get(ctx, &transferpb.GetRequest{RequestId: id, WaitMs: 5000})
		if err != nil || !bytes.Equal(got.SignedTx, done.SignedTx) {
			t.Fatalf("node3 does not hold the result it signed: %v", err)
		}
		signedBy3 := func() bool {
			for _, l := range strings.Split(c.LogTail("node3", 5000), "\n") {
				if strings.Contains(l, `"msg":"transfer signed"`) && strings.Contains(l, `"request":"`+id+`"`) {
					return true
				}
			}
			return false
		}
		for deadline := time.Now().Add(10 * time.Second); !signedBy3(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("node3 did not sign %s", id)
			}
		}
	}
	t.Run("ok/it signs a request submitted while it was down", func(t *testing.T) {
		signWithNode3(t, "refill-while-down", true, nil)
	})

	t.Run("ok/a node whose store was deleted recovers its ledger and shares from the log and its audit log from a bundle", func(t *testing.T) {
		// the auditors' regular export of node3's log: a node's audit log
		// is its own, so a lost store's log comes back only from a bundle
		waitCosigned(t, tr.Layout, tr.Auditor, 60*time.Second)
		bundle := filepath.Join(t.TempDir(), "node3.bundle")
		runCoffer(t, "--cluster", c.Layout.Dir, "audit", "export", "--node", "node3", "--as", tr.Auditor.Name, "--out", bundle)
		c.KillNode("node3")
		n3, _ := c.Layout.Node("node3")
		for _, p := range []string{c.Layout.Path(n3.Store), c.Layout.Path("node3/raft")} {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.StartNode(ctx, "node3"); err == nil || !strings.Contains(err.Error(), "rolled back") {
			t.Fatalf("node3 started without its audit log (it would sign a second root for sizes it signed): %v", err)
		}
		out, ok := runCofferd(t, c, "store", "restore", "--config", c.Layout.Path(n3.Config), "--audit-tail", bundle)
		if !ok {
			t.Fatalf("restore node3's audit log from the bundle:\n%s", out)
		}
		t.Logf("%s", strings.TrimSpace(out))
		restartAndCheck(t)
		if !strings.Contains(c.LogTail("node3", 5000), "key shares recovered") {
			t.Fatal("node3 did not recover its sealed shares from the log")
		}
		in := devcluster.BTCIntent("after-wipe", w["btc-hot"], "btc-cold", 30_000, devcluster.FakeUTXO(w["btc-hot"], 200_000))
		signWithNode3(t, "after-wipe", false, in)
	})
}
