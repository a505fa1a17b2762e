package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/cofferhq/coffer/ledger"
)

func propose(t *testing.T, n *testNode, cmd ledger.Command) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := n.rep.Propose(ctx, cmd)
	if err != nil {
		t.Fatalf("propose %s %s: %v", cmd.Kind, cmd.ID, err)
	}
	return res
}

// sameEverywhere checks that every running node holds the same transfers.
func (c *testCluster) sameEverywhere(ids ...string) {
	c.t.Helper()
	var ref map[string]ledger.Transfer
	for _, name := range c.names {
		n := c.node(name)
		if n == nil {
			continue
		}
		got := map[string]ledger.Transfer{}
		for _, id := range ids {
			tr, err := n.store.Transfer(id)
			if err != nil {
				c.t.Fatalf("%s: transfer %s: %v", name, id, err)
			}
			got[id] = tr
		}
		if ref == nil {
			ref = got
		} else if !reflect.DeepEqual(ref, got) {
			c.t.Fatalf("%s holds other transfers than the first node", name)
		}
	}
}

// TestReplicatesThroughTheLeader: every node proposes (followers through
// the leader) and every node applies the same commands in the same order.
func TestReplicatesThroughTheLeader(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	var ids []string
	var last uint64
	for _, name := range c.names {
		id := "t-" + name
		ids = append(ids, id)
		res := propose(t, c.node(name), submitCmd(id, name))
		if res.Transfer.ID != id || res.Transfer.Home != name {
			t.Fatalf("%s: result %+v", name, res.Transfer)
		}
		last = max(last, res.Index)
	}
	c.waitAll(last)
	c.sameEverywhere(ids...)
	// a node's own refusal comes back to it as an error
	n := c.node("node2")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bad := submitCmd("t-node2", "node2")
	bad.Submit.Intent = []byte("another intent under the same ID")
	if _, err := n.rep.Propose(ctx, bad); !errors.Is(err, ledger.ErrRefused) || !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("fail/conflicting resubmission: %v", err)
	}
}

// A follower learns that a command is committed when the leader commits
// it, not at raft's next commit tick: with the tick ten minutes away, a
// follower's own proposal still comes back applied on it, and every node
// applies the leader's. (raft carries the commit index only with the next
// AppendEntries; the leader's barrier after each commit sends one.)
func TestCommitReachesFollowersAtOnce(t *testing.T) {
	c := newTestClusterTick(t, 3, 10*time.Minute)
	leader := c.leader()
	var last uint64
	for _, name := range c.names {
		if name == leader {
			continue
		}
		res := propose(t, c.node(name), submitCmd("f-"+name, name)) // 20 s at most
		last = max(last, res.Index)
	}
	res := propose(t, c.node(leader), submitCmd("l-"+leader, leader))
	c.waitAll(max(last, res.Index)) // 20 s at most
}

// TestForgedEntriesRefusedByEveryNode: entries a compromised leader puts
// in the log itself — unsigned, signed by one node in another's name, a
// release of a reservation the signer does not hold, an approval without
// a valid officer signature, a replay — are refused by every node alike
// and change nothing.
func TestForgedEntriesRefusedByEveryNode(t *testing.T) {
	c := newTestCluster(t, 3)
	lead := c.leader()
	var mu sync.Mutex
	refused := map[string]map[uint64]string{}
	for _, name := range c.names {
		refused[name] = map[uint64]string{}
		c.node(name).rep.Observe(func(r Result) {
			if r.Err != nil {
				mu.Lock()
				refused[name][r.Index] = r.Err.Error()
				mu.Unlock()
			}
		})
	}
	home := c.node("node1")
	propose(t, home, submitCmd("t1", "node1"))
	res := propose(t, home, ledger.Command{Kind: ledger.CmdReserve, At: t0.Add(time.Second), ID: "t1",
		Reservation: &ledger.Reservation{Session: []byte("s1"), At: t0.Add(time.Second), Outpoints: []string{"a:0"},
			Spend: ledger.Spend{Source: "hot", To: "bcrt1qcold", Asset: "BTC", Amount: "1000"}}})
	c.waitAll(res.Index)
	before := map[string]ledger.Transfer{}
	for _, name := range c.names {
		before[name], _ = c.node(name).store.Transfer("t1")
	}

	sign := func(signer, claimed string, seq uint64, cmd ledger.Command) []byte {
		cmd.Node = claimed
		b, err := newEntry(c.keys[signer], "c", claimed, seq, cmd)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	release := ledger.Command{Kind: ledger.CmdRelease, At: t0.Add(2 * time.Second), ID: "t1", Reason: "forged",
		Reservation: &ledger.Reservation{Session: []byte("s1")}}
	approve := ledger.Command{Kind: ledger.CmdApprove, At: t0.Add(2 * time.Second), ID: "t1",
		Approval: &ledger.Approval{Officer: "tom", Verdict: "approve", Signature: []byte("not a valid signature")}}
	// the replay: node1's own reservation entry again, byte for byte
	replay := sign("node1", "node1", 1, ledger.Command{Kind: ledger.CmdSetState, At: t0.Add(3 * time.Second), ID: "t1", State: ledger.StateDenied})
	unsigned, _ := json.Marshal(Entry{Node: "node1", Seq: 5, Command: json.RawMessage(`{"kind":"release"}`)})
	forged := []struct {
		name  string
		entry []byte
	}{
		{"garbage", []byte("not an entry")},
		{"unsigned", unsigned},
		{"signed by node2 in node1's name", sign("node2", "node1", 7, release)},
		{"a release by a node that holds nothing", sign("node2", "node2", 8, release)},
		{"an approval without a valid officer signature", sign("node2", "node2", 9, approve)},
		{"first use of a sequence number", replay},
		{"the same entry replayed", replay},
	}
	leader := c.node(lead)
	var idx []uint64
	for _, f := range forged {
		fut := leader.rep.raft.Apply(f.entry, 10*time.Second)
		if err := fut.Error(); err != nil {
			t.Fatalf("%s: append: %v", f.name, err)
		}
		idx = append(idx, fut.Index())
	}
	c.waitAll(idx[len(idx)-1])
	mu.Lock()
	defer mu.Unlock()
	for i, f := range forged {
		t.Logf("%s: %s", f.name, refused["node3"][idx[i]])
		want := i != 5 // the first use of node1's sequence 1 (a set_state by the home) is genuine
		for _, name := range c.names {
			_, got := refused[name][idx[i]]
			if got != want {
				t.Fatalf("%s: %s: refused=%v on %s (%v)", f.name, name, got, name, refused[name])
			}
			if refused[name][idx[i]] != refused["node1"][idx[i]] {
				t.Fatalf("%s: nodes refused differently: %q vs %q", f.name, refused[name][idx[i]], refused["node1"][idx[i]])
			}
		}
	}
	for _, name := range c.names {
		after, _ := c.node(name).store.Transfer("t1")
		if !reflect.DeepEqual(after.Reservation, before[name].Reservation) || len(after.Approvals) != 0 {
			t.Fatalf("%s: a forged entry changed the reservation or approvals", name)
		}
	}
	c.sameEverywhere("t1")
}

// TestCatchUp: a node that was stopped catches up from the log; a node
// whose ledger and raft directory were wiped (its identity kept) catches up
// from a snapshot and the log after it.
func TestCatchUp(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	c.stop("node3")
	var ids []string
	var last uint64
	for i := range 150 { // past SnapshotEvery: the log is compacted
		id := "t" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		ids = append(ids, id)
		home := c.names[i%2]
		last = propose(t, c.node(home), submitCmd(id, home)).Index
	}
	c.start("node3")
	c.waitAll(last)
	c.sameEverywhere(ids...)

	c.stop("node3")
	if err := os.RemoveAll(c.dirs["node3"]); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c.dirs["node3"], 0o700); err != nil {
		t.Fatal(err)
	}
	more := propose(t, c.node("node1"), submitCmd("after-wipe", "node1")).Index
	for _, name := range []string{"node1", "node2"} {
		if err := c.node(name).rep.Snapshot(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			t.Logf("snapshot on %s: %v", name, err)
		}
	}
	c.start("node3")
	c.waitAll(more)
	c.sameEverywhere(append(ids, "after-wipe")...)
	// and it proposes again
	res := propose(t, c.node("node3"), submitCmd("from-node3", "node3"))
	c.waitAll(res.Index)
	c.sameEverywhere("from-node3")
}

// TestWipedVoterWaitsForTheLog: a node that lost its raft state must not
// help a stale node become leader: entries committed while the stale node
// was down survive, and every node ends with them.
func TestWipedVoterWaitsForTheLog(t *testing.T) {
	c := newTestCluster(t, 3)
	c.leader()
	c.stop("node2") // node2 will be stale
	var last uint64
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("while-node2-down-%d", i)
		ids = append(ids, id)
		last = propose(t, c.node("node1"), submitCmd(id, "node1")).Index
	}
	c.waitAll(last) // node1 and node3 hold them: committed
	// node3 loses its store and raft state; node1, the only other node with
	// the entries, goes down; node2 comes back stale
	c.stop("node3")
	if err := os.RemoveAll(c.dirs["node3"]); err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(c.dirs["node3"], 0o700)
	c.stop("node1")
	c.start("node2")
	c.start("node3")
	time.Sleep(3 * time.Second) // many election timeouts: node2 must not win with node3's vote
	for _, name := range []string{"node2", "node3"} {
		if st := c.node(name).rep.Status(); st.State == "Leader" {
			t.Fatalf("fail/%s became leader without the committed entries (%+v)", name, st)
		}
	}
	c.start("node1")
	c.waitAll(last)
	c.sameEverywhere(ids...)
}
