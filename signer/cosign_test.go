package signer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/api"
)

// auditNodes are nodes with only what the audit log and cosigning need:
// a config with the members' identity keys, a bbolt file and the log.
type auditNodes struct {
	t     *testing.T
	keys  map[string]ed25519.PrivateKey
	nodes map[string]*Node
	mu    sync.Mutex
	calls map[string]int // Cosign calls received, by callee
}

func newAuditNodes(t *testing.T, ids ...string) *auditNodes {
	c := &auditNodes{t: t, keys: map[string]ed25519.PrivateKey{}, nodes: map[string]*Node{}, calls: map[string]int{}}
	for i, id := range ids {
		c.keys[id] = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, 32))
	}
	for _, id := range ids {
		c.nodes[id] = c.open(id, filepath.Join(t.TempDir(), id+".db"))
	}
	return c
}

// open opens a node's log in a bbolt file with the node's identity key.
func (c *auditNodes) open(id, path string) *Node {
	c.t.Helper()
	cfg := &Config{Node: id, Cluster: "test"}
	for _, m := range slices.Sorted(maps.Keys(c.keys)) {
		cfg.Members = append(cfg.Members, MemberConfig{ID: m, IdentityKey: hex.EncodeToString(c.keys[m].Public().(ed25519.PublicKey))})
	}
	log := slog.New(slog.DiscardHandler)
	st, err := ledger.Open(path, ledger.Options{}, log)
	if err != nil {
		c.t.Fatal(err)
	}
	peers, err := auditPeerKeys(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	lg, err := audit.New(audit.Config{Cluster: cfg.Cluster, Node: id, Peers: peers}, audit.Deps{DB: st.DB(), Identity: c.keys[id], Logger: log})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = lg.Close(); _ = st.Close() })
	return &Node{cfg: cfg, log: log, store: st, audit: lg}
}

// dial reaches the other nodes' handlers directly, as the peer server
// would with from authenticated by TLS.
func (c *auditNodes) dial(from string) dialCosigner {
	return func(id string) (cosigner, error) {
		return cosignFunc(func(ctx context.Context, req *peerpb.CosignRequest) (*peerpb.CosignResponse, error) {
			c.mu.Lock()
			c.calls[id]++
			c.mu.Unlock()
			return c.nodes[id].Cosign(ctx, from, req)
		}), nil
	}
}

type cosignFunc func(context.Context, *peerpb.CosignRequest) (*peerpb.CosignResponse, error)

func (f cosignFunc) Cosign(ctx context.Context, req *peerpb.CosignRequest, _ ...grpc.CallOption) (*peerpb.CosignResponse, error) {
	return f(ctx, req)
}

func (c *auditNodes) appendN(n *Node, count int, tag string) {
	c.t.Helper()
	var recs []audit.Record
	for i := range count {
		recs = append(recs, audit.Record{Kind: audit.KindApprovalRecorded, Time: time.Unix(1700000000, 0).UTC(),
			Approval: &audit.ApprovalRecorded{RequestDigest: audit.Digest(sha256.Sum256(fmt.Appendf(nil, "%s-%d", tag, i))),
				Officer: "tom", Verdict: audit.VerdictApprove, Signature: bytes.Repeat([]byte{7}, 64)}})
	}
	if _, err := n.audit.AppendAll(context.Background(), recs); err != nil {
		c.t.Fatal(err)
	}
}

func newWitnesses(n *Node) map[string]*witness {
	state := map[string]*witness{}
	for _, id := range n.memberIDs() {
		if id != n.cfg.Node {
			state[id] = &witness{}
		}
	}
	return state
}

func latestCosigners(t *testing.T, n *Node) (uint64, []string) {
	t.Helper()
	sc, err := api.NewAudit(api.Deps{Audit: n.audit, Verifiers: n.auditVerifiers, Log: n.log}).Latest(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Size, slices.Sorted(slices.Values(sc.Cosigners))
}

func TestCosign(t *testing.T) {
	ctx := context.Background()
	c := newAuditNodes(t, "node1", "node2", "node3")
	n1, n2 := c.nodes["node1"], c.nodes["node2"]
	state := newWitnesses(n1)
	all := []string{"coffer/test/node2", "coffer/test/node3"}

	t.Run("ok/the empty log is cosigned", func(t *testing.T) {
		n1.cosignRound(ctx, state, c.dial("node1"))
		if size, got := latestCosigners(t, n1); size != 0 || !slices.Equal(got, all) {
			t.Fatalf("size %d cosigners %v", size, got)
		}
	})
	t.Run("ok/peers cosign the latest checkpoint", func(t *testing.T) {
		c.appendN(n1, 3, "a")
		n1.cosignRound(ctx, state, c.dial("node1"))
		if size, got := latestCosigners(t, n1); size != 3 || !slices.Equal(got, all) {
			t.Fatalf("size %d cosigners %v", size, got)
		}
	})
	t.Run("ok/a grown log is cosigned with a consistency proof", func(t *testing.T) {
		c.appendN(n1, 4, "b")
		n1.cosignRound(ctx, state, c.dial("node1"))
		if size, got := latestCosigners(t, n1); size != 7 || !slices.Equal(got, all) {
			t.Fatalf("size %d cosigners %v", size, got)
		}
		if last, ok, _ := n2.audit.LastCosigned(ctx, "coffer/test/node1"); !ok || last.Size != 7 {
			t.Fatalf("node2 last cosigned %v %v", last.Size, ok)
		}
	})
	t.Run("ok/nothing new, no call", func(t *testing.T) {
		before := c.calls["node2"]
		n1.cosignRound(ctx, state, c.dial("node1"))
		if c.calls["node2"] != before {
			t.Fatal("asked to cosign a size already cosigned")
		}
	})
	t.Run("ok/after a restart the peer names the size to prove from", func(t *testing.T) {
		c.appendN(n1, 2, "c")
		before := c.calls["node2"]
		n1.cosignRound(ctx, newWitnesses(n1), c.dial("node1"))
		if size, got := latestCosigners(t, n1); size != 9 || !slices.Equal(got, all) {
			t.Fatalf("size %d cosigners %v", size, got)
		}
		if c.calls["node2"]-before != 2 {
			t.Fatalf("%d calls, want 2 (need_proof, then the proof)", c.calls["node2"]-before)
		}
	})
	t.Run("fail/an answer without the peer's signature is not stored", func(t *testing.T) {
		c.appendN(n1, 1, "d")
		latest, _ := n1.audit.Latest(ctx)
		echo := cosignFunc(func(context.Context, *peerpb.CosignRequest) (*peerpb.CosignResponse, error) {
			return &peerpb.CosignResponse{Cosigned: latest.Note}, nil
		})
		w := &witness{size: 9, known: true}
		n1.askCosign(ctx, func(string) (cosigner, error) { return echo, nil }, "node2", latest, w)
		if w.size != 9 || w.failure == "" {
			t.Fatalf("witness %+v", w)
		}
		if _, got := latestCosigners(t, n1); len(got) != 0 {
			t.Fatalf("cosigners %v", got)
		}
	})
	twin := c.open("node1", filepath.Join(t.TempDir(), "twin.db")) // node1's key, another history
	for _, tc := range []struct {
		name  string
		from  string
		req   func() *peerpb.CosignRequest
		want  codes.Code
		ahead uint64 // answered with the caller's own checkpoint of this size
		setup func()
	}{
		{name: "fail/a node submits only its own checkpoints", from: "node3", want: codes.PermissionDenied,
			req: func() *peerpb.CosignRequest {
				l, _ := n1.audit.Latest(ctx)
				return &peerpb.CosignRequest{SignedCheckpoint: l.Note}
			}},
		{name: "fail/empty checkpoint", from: "node1", want: codes.InvalidArgument,
			req: func() *peerpb.CosignRequest { return &peerpb.CosignRequest{} }},
		{name: "fail/short proof hash", from: "node1", want: codes.InvalidArgument,
			req: func() *peerpb.CosignRequest {
				l, _ := n1.audit.Latest(ctx)
				return &peerpb.CosignRequest{SignedCheckpoint: l.Note, ConsistencyProof: [][]byte{make([]byte, 31)}, FromSize: 9}
			}},
		{name: "fail/a checkpoint changed after it was signed", from: "node1", want: codes.InvalidArgument,
			req: func() *peerpb.CosignRequest {
				l, _ := n1.audit.Latest(ctx)
				return &peerpb.CosignRequest{SignedCheckpoint: bytes.Replace(l.Note, []byte("\n10\n"), []byte("\n11\n"), 1), FromSize: 9}
			}},
		{name: "fail/a fork: another root for a cosigned size, answered with the cosigned one", from: "node1", ahead: 9,
			setup: func() { c.appendN(twin, 9, "twin") },
			req: func() *peerpb.CosignRequest {
				l, _ := twin.audit.Latest(ctx)
				return &peerpb.CosignRequest{SignedCheckpoint: l.Note}
			}},
		{name: "fail/a history that does not extend the cosigned one, answered with the cosigned one", from: "node1", ahead: 9,
			setup: func() { c.appendN(twin, 3, "twin2") },
			req: func() *peerpb.CosignRequest {
				l, _ := twin.audit.Latest(ctx)
				p, _ := twin.audit.ConsistencyProof(ctx, 9, 12)
				return &peerpb.CosignRequest{SignedCheckpoint: l.Note, ConsistencyProof: p, FromSize: 9}
			}},
		{name: "fail/a rollback to a smaller tree, answered with the larger one", from: "node1", ahead: 9,
			req: func() *peerpb.CosignRequest {
				l, _ := n1.audit.Checkpoint(ctx, 3)
				return &peerpb.CosignRequest{SignedCheckpoint: l.Note}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			resp, err := n2.Cosign(ctx, tc.from, tc.req())
			if tc.ahead != 0 {
				if err != nil || len(resp.Cosigned) != 0 || resp.LastSize != tc.ahead {
					t.Fatalf("got %v, %v; want the checkpoint of size %d back", resp, err, tc.ahead)
				}
				vs, _ := n1.auditVerifiers()
				cp, _, err := audit.OpenCheckpoint(resp.Ahead, vs)
				if err != nil || cp.Size != tc.ahead {
					t.Fatalf("the answer is not node1's own checkpoint of size %d: %v %v", tc.ahead, cp, err)
				}
				return
			}
			if status.Code(err) != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("fail/a node whose store was rolled back learns it from a peer and stops appending", func(t *testing.T) {
		rolled := c.open("node1", filepath.Join(t.TempDir(), "rolled.db")) // node1's key, 5 entries of its own
		c.appendN(rolled, 5, "rolled")
		rolled.cosignRound(ctx, newWitnesses(rolled), c.dial("node1"))
		rec := audit.Record{Kind: audit.KindApprovalRecorded, Time: time.Unix(1700000000, 0).UTC(),
			Approval: &audit.ApprovalRecorded{RequestDigest: audit.Digest(sha256.Sum256([]byte("after"))),
				Officer: "tom", Verdict: audit.VerdictApprove, Signature: bytes.Repeat([]byte{7}, 64)}}
		if _, err := rolled.audit.Append(ctx, rec); !errors.Is(err, audit.ErrRollback) {
			t.Fatalf("append after a peer handed back a larger checkpoint: %v, want ErrRollback", err)
		}
	})
	t.Run("ok/every node's bundle verifies with keys made from the config", func(t *testing.T) {
		for _, id := range []string{"node2", "node3"} {
			c.appendN(c.nodes[id], 2, id)
			c.nodes[id].cosignRound(ctx, newWitnesses(c.nodes[id]), c.dial(id))
		}
		n1.cosignRound(ctx, state, c.dial("node1"))
		keys, err := AuditVerifierKeys(n1.cfg)
		if err != nil {
			t.Fatal(err)
		}
		trust, err := audit.NewTrust(1, 2, keys...)
		if err != nil {
			t.Fatal(err)
		}
		var bundles []*audit.Bundle
		for _, id := range []string{"node1", "node2", "node3"} {
			var buf bytes.Buffer
			if err := c.nodes[id].audit.Export(ctx, &buf); err != nil {
				t.Fatal(err)
			}
			b, err := audit.ReadBundle(id, &buf)
			if err != nil {
				t.Fatal(err)
			}
			bundles = append(bundles, b)
		}
		rep, err := audit.Verify(ctx, bundles, trust, nil)
		if err != nil {
			var out bytes.Buffer
			_ = rep.WriteText(&out)
			t.Fatalf("%v\n%s", err, out.String())
		}
	})
}
