package signer

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/signer/peer"
)

func capsNode() *Node {
	cfg := &Config{Node: "node1", Cluster: "c"}
	cfg.Sessions.MaxTimeout = Duration(10 * time.Minute)
	return &Node{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now, sessions: map[string]*entry{},
		members: peer.Membership{"node1": {ID: "node1"}, "node2": {ID: "node2"}, "node3": {ID: "node3"}}}
}

func prepareFrom(n *Node, from string, i int) error {
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_SIGN, KeyId: "k", Parties: []string{"node1", from}, Coordinator: from,
		SelftestNonce: make([]byte, 32), Attempt: []byte{byte(i), byte(i >> 8)}, DeadlineUnixMs: time.Now().Add(time.Minute).UnixMilli()}
	sid, err := SessionID(spec)
	if err != nil {
		return err
	}
	return n.Prepare(context.Background(), from, &peerpb.PrepareRequest{SessionId: sid, Spec: spec})
}

// One coordinator cannot make a node hold more than
// maxSessionsPerCoordinator live sessions, nor all of them more than
// maxSessions; over a cap the Prepare is refused and nothing changes.
func TestSessionCaps(t *testing.T) {
	n := capsNode()
	for i := range maxSessionsPerCoordinator {
		n.sessions[string(rune(i))] = &entry{spec: &peerpb.SessionSpec{Coordinator: "node2"}, state: prepared}
	}
	before := len(n.sessions)
	err := prepareFrom(n, "node2", 1)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "from node2") {
		t.Fatalf("fail/a coordinator over its cap: %v", err)
	}
	if len(n.sessions) != before {
		t.Fatal("a refused Prepare changed the sessions")
	}
	// another coordinator is not crowded out by node2's sessions
	if err := prepareFrom(n, "node3", 2); status.Code(err) == codes.ResourceExhausted {
		t.Fatalf("node3 refused for node2's sessions: %v", err)
	}
	// ended sessions do not count
	for _, e := range n.sessions {
		e.state = ended
	}
	if err := prepareFrom(n, "node2", 3); status.Code(err) == codes.ResourceExhausted {
		t.Fatalf("ended sessions counted against the cap: %v", err)
	}
	// the total
	for i := range maxSessions {
		n.sessions["t"+string(rune(i))] = &entry{spec: &peerpb.SessionSpec{Coordinator: "node" + string(rune('4'+i%3))}, state: prepared}
	}
	if err := prepareFrom(n, "node3", 4); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("fail/over the total cap: %v", err)
	}
}

// An envelope from a node outside a session is refused and leaves the
// session alone.
func TestDeliverFromANonParty(t *testing.T) {
	n := capsNode()
	sid := []byte("sid")
	n.sessions[string(sid)] = &entry{spec: &peerpb.SessionSpec{Parties: []string{"node1", "node2"}, Coordinator: "node1"}, state: prepared}
	err := n.Deliver(context.Background(), "node3", &peerpb.Envelope{SessionId: sid, Payload: []byte("x")})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("fail/a non-party's envelope: %v", err)
	}
	if n.sessions[string(sid)].state != prepared {
		t.Fatal("the session changed")
	}
}
