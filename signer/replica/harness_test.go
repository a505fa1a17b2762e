package replica

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer/peer"
	"github.com/cofferhq/coffer/signer/tlskey"
)

// testCluster is n replicas in this process, each with its own ledger,
// raft directory, identity key and TLS listener on 127.0.0.1.
type testCluster struct {
	t       *testing.T
	names   []string
	keys    map[string]ed25519.PrivateKey
	pubs    map[string]ed25519.PublicKey
	addrs   map[string]string
	creds   map[string]peer.Credentials
	members peer.Membership
	dirs    map[string]string

	mu    sync.Mutex
	nodes map[string]*testNode

	commitTimeout time.Duration // raft's idle commit tick (0: the default)
}

type testNode struct {
	rep   *Replica
	store *ledger.Store
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	return newTestClusterTick(t, n, 0)
}

// newTestClusterTick is newTestCluster with raft's commit tick set.
func newTestClusterTick(t *testing.T, n int, commitTimeout time.Duration) *testCluster {
	t.Helper()
	ca, _, err := pki.NewCA("c", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, keys: map[string]ed25519.PrivateKey{}, pubs: map[string]ed25519.PublicKey{},
		addrs: map[string]string{}, creds: map[string]peer.Credentials{}, members: peer.Membership{},
		dirs: map[string]string{}, nodes: map[string]*testNode{}, commitTimeout: commitTimeout}
	for i := range n {
		name := fmt.Sprintf("node%d", i+1)
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		cert, err := ca.Issue(name, pki.RoleNode, pub, []string{"127.0.0.1"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c.names = append(c.names, name)
		c.keys[name], c.pubs[name] = priv, pub
		c.addrs[name] = freeAddr(t)
		key, err := tlskey.New(tlskey.Config{Purpose: pki.PurposeRaft, Identity: cert}, tlskey.Deps{Signer: priv, Log: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		c.creds[name] = peer.Credentials{Key: key, CA: ca.Cert}
		c.members[name] = peer.Member{ID: name, IdentityKey: pub}
		c.dirs[name] = t.TempDir()
	}
	for _, name := range c.names {
		c.start(name)
	}
	t.Cleanup(func() {
		for _, name := range c.names {
			c.stop(name)
		}
	})
	return c
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start opens node's ledger and replica (again, after stop).
func (c *testCluster) start(name string) {
	c.t.Helper()
	st, err := ledger.Open(filepath.Join(c.dirs[name], "node.db"), ledger.Options{}, quiet())
	if err != nil {
		c.t.Fatal(err)
	}
	st.SetApprovalVerifier(acceptApprovals{})
	rep, err := New(Config{Node: name, Cluster: "c", Dir: filepath.Join(c.dirs[name], "raft"), Bind: c.addrs[name],
		Voters: c.addrs, Keys: c.pubs, Credentials: c.creds[name], Membership: c.members, Identity: c.keys[name],
		Store: st, Forwarder: forwarder{c: c, from: name}, PeerLog: c.peerLog(name), Log: quiet(),
		HeartbeatTimeout: 300 * time.Millisecond, CommitTimeout: c.commitTimeout, SnapshotEvery: 64})
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	c.mu.Lock()
	c.nodes[name] = &testNode{rep: rep, store: st}
	c.mu.Unlock()
}

func (c *testCluster) stop(name string) {
	c.mu.Lock()
	n := c.nodes[name]
	delete(c.nodes, name)
	c.mu.Unlock()
	if n != nil {
		_ = n.rep.Close()
		_ = n.store.Close()
	}
}

func (c *testCluster) node(name string) *testNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[name]
}

// forwarder routes a forwarded entry to the leader's HandleForward, as the
// peer transport does between processes.
type forwarder struct {
	c    *testCluster
	from string
}

func (f forwarder) Forward(ctx context.Context, leader string, entry []byte) error {
	n := f.c.node(leader)
	if n == nil {
		return fmt.Errorf("%s is down", leader)
	}
	return n.rep.HandleForward(ctx, f.from, entry)
}

// acceptApprovals accepts approvals signed "ok".
type acceptApprovals struct{}

func (acceptApprovals) VerifyApproval(_ string, _ []byte, a ledger.Approval) error {
	if string(a.Signature) != "ok" {
		return fmt.Errorf("bad approval signature")
	}
	return nil
}

// waitAll waits until every running node applied index.
func (c *testCluster) waitAll(index uint64) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range c.names {
		if n := c.node(name); n != nil {
			if err := n.rep.WaitApplied(ctx, index); err != nil {
				c.t.Fatalf("%s: %v", name, err)
			}
		}
	}
}

func (c *testCluster) leader() string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, name := range c.names {
			if n := c.node(name); n != nil && n.rep.Status().State == "Leader" {
				return name
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no leader within 20s")
	return ""
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func transfer(id, home string) *ledger.Transfer {
	return &ledger.Transfer{ID: id, Digest: make([]byte, 32), Home: home, Initiator: "w", InitiatorRole: "withdrawal",
		Source: "hot", Chain: "btc", Asset: "BTC", Amount: "1000", To: "bcrt1qcold", Intent: []byte("intent " + id),
		PolicyHash: "p", SubmittedAt: t0, ExpiresAt: t0.Add(time.Hour), State: ledger.StateReady}
}

func submitCmd(id, home string) ledger.Command {
	return ledger.Command{Kind: ledger.CmdSubmit, At: t0, Submit: transfer(id, home)}
}

// peerLog reports the longest log among the other running nodes, as the
// peer transport's RaftInfo does between processes.
func (c *testCluster) peerLog(self string) PeerLog {
	return func(context.Context) (uint64, int, error) {
		var top uint64
		answered := 0
		for _, name := range c.names {
			if n := c.node(name); name != self && n != nil {
				top = max(top, n.rep.Status().Last)
				answered++
			}
		}
		return top, answered, nil
	}
}
