package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// waitAmong waits until the named nodes answer, agree on a leader among
// them (not a stopped node they still remember), show
// want as the voters, and have applied as far as each other.
func waitAmong(t *testing.T, c *devcluster.Cluster, nodes []string, want []string) []replRow {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var rows []replRow
		for _, r := range clusterStatus(t, c) {
			if slices.Contains(nodes, r.Node) {
				rows = append(rows, r)
			}
		}
		ok := len(rows) == len(nodes)
		var top uint64
		for _, r := range rows {
			top = max(top, r.Applied)
		}
		for _, r := range rows {
			ok = ok && r.Error == "" && slices.Contains(nodes, r.Leader) && r.Leader == rows[0].Leader && r.Applied == top && slices.Equal(r.Voters, want)
		}
		if ok {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes %v did not settle on voters %v: %+v", nodes, want, rows)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestMembership: a fourth node is made (token, identity, certificate,
// config), the running nodes are restarted one at a time to pin it, and
// `coffer cluster add-node` makes it a voter: it catches up with the log,
// then votes — after `coffer cluster remove-node node3` and with node2
// stopped, node1 and node4 alone commit a new key and sign with it.
func TestMembership(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	dir := c.Layout.Dir
	three := []string{"node1", "node2", "node3"}
	if _, err := keygen(c, "node1", "k1", 1, three, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("fail/only members of the config can vote", func(t *testing.T) {
		out, err := cliRun(t, dir, nil, "", "cluster", "add-node", "node9")
		if err == nil || !strings.Contains(out, "not a member") {
			t.Fatalf("add-node of a stranger: %v", err)
		}
	})

	out, err := cliRun(t, dir, nil, "", "cluster", "new-node", "node4")
	if err != nil {
		t.Fatal(err)
	}
	cliMustContain(t, "new-node", out, "node4", "add-node node4")
	l, err := devcluster.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Layout.Nodes = l.Nodes
	// pre-parameters for node4's first keygen (a fixture set no other node has)
	if err := c.Layout.ImportPreParams(ctx, fixtureFile(t), map[string][]int{"node4": {9}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range three {
		c.StopNode(n)
		if err := c.StartNode(ctx, n); err != nil {
			t.Fatalf("restart %s: %v", n, err)
		}
		waitAmong(t, c, three, three)
	}
	if err := c.StartNode(ctx, "node4"); err != nil {
		t.Fatal(err)
	}
	out, err = cliRun(t, dir, nil, "", "cluster", "add-node", "node4")
	if err != nil {
		t.Fatal(err)
	}
	cliMustContain(t, "add-node", out, "voters now: node1,node2,node3,node4")
	four := []string{"node1", "node2", "node3", "node4"}
	rows := waitAmong(t, c, four, four)
	t.Logf("after add-node: %+v", rows)

	t.Run("ok/the new voter applied the log written before it joined", func(t *testing.T) {
		byNode := map[string]replRow{}
		for _, r := range rows {
			byNode[r.Node] = r
		}
		// k1's key records are in the log before node4 existed; node4
		// holds no share of k1, so it lists no key of its own
		if byNode["node4"].Applied == 0 || byNode["node4"].Applied != byNode["node1"].Applied {
			t.Fatalf("node4 applied %d, node1 %d", byNode["node4"].Applied, byNode["node1"].Applied)
		}
		cl, err := c.Layout.Dial("node4")
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		keys, err := cl.Operator.ListKeys(ctx, &operatorpb.ListKeysRequest{})
		if err != nil || len(keys.Keys) != 0 {
			t.Fatalf("node4 lists keys it holds no share of: %v %v", keys, err)
		}
	})

	// node3 may lead the log, and the leader does not remove itself (the
	// subtest below): stop it first, as the CLI's help says, so one of the
	// three others leads and removes it
	c.StopNode("node3")
	waitAmong(t, c, []string{"node1", "node2", "node4"}, four)
	out, err = cliRun(t, dir, nil, "", "cluster", "remove-node", "node3")
	if err != nil {
		t.Fatal(err)
	}
	cliMustContain(t, "remove-node", out, "voters now: node1,node2,node4")
	waitAmong(t, c, []string{"node1", "node2", "node4"}, []string{"node1", "node2", "node4"})

	t.Run("fail/the leader does not remove itself", func(t *testing.T) {
		leader := waitAmong(t, c, []string{"node1", "node2", "node4"}, []string{"node1", "node2", "node4"})[0].Leader
		out, err := cliRun(t, dir, nil, "", "cluster", "remove-node", leader)
		if err == nil || !strings.Contains(out, "cannot remove itself") {
			t.Fatalf("the leader removed itself: %v", err)
		}
	})

	t.Run("ok/with node2 stopped, node1 and node4 commit a key and sign with it", func(t *testing.T) {
		c.StopNode("node2")
		waitAmong(t, c, []string{"node1", "node4"}, []string{"node1", "node2", "node4"})
		if _, err := keygen(c, "node1", "k2", 1, []string{"node1", "node4"}, nil); err != nil {
			t.Fatal(err)
		}
		_, ok, err := selfTestSign(c, "k2", []string{"node1", "node4"}, nil)
		if err != nil || !ok {
			t.Fatalf("self-test signature with node4: ok=%v err=%v", ok, err)
		}
		cl, err := c.Layout.Dial("node4")
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		keys, err := cl.Operator.ListKeys(ctx, &operatorpb.ListKeysRequest{})
		if err != nil || len(keys.Keys) != 1 || keys.Keys[0].KeyId != "k2" {
			t.Fatalf("node4 keys after the keygen: %v %v", keys, err)
		}
	})
}
