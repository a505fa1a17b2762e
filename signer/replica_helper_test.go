package signer

import (
	"crypto/ed25519"
	"encoding/hex"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer/peer"
)

// startSoloReplica makes n a one-node raft cluster over real TLS on
// 127.0.0.1, as Run does, so the workflow's commands go through the log.
func startSoloReplica(t testing.TB, n *Node) {
	t.Helper()
	ca, _, err := pki.NewCA(n.cfg.Cluster, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub := n.ks.Identity().Public().(ed25519.PublicKey)
	cert, err := ca.Issue(n.cfg.Node, pki.RoleNode, pub, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	n.cfg.Listen.Raft, n.cfg.Store.RaftDir = addr, filepath.Join(t.TempDir(), "raft")
	n.cfg.Members = []MemberConfig{{ID: n.cfg.Node, Raft: addr, IdentityKey: hex.EncodeToString(pub)}}
	n.members = peer.Membership{n.cfg.Node: {ID: n.cfg.Node, IdentityKey: pub}}
	if n.revoked == nil {
		n.revoked = &revocations{}
	}
	if n.keys, err = n.newTLSKeys(cert); err != nil {
		t.Fatal(err)
	}
	n.creds = peer.Credentials{Key: n.keys.peer, CA: ca.Cert, Revoked: n.revoked}
	n.raftCreds = peer.Credentials{Key: n.keys.raft, CA: ca.Cert, Revoked: n.revoked}
	if n.flow == nil && n.gate != nil {
		if n.flow, err = n.newWorkflow(); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.startReplica(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.rep.Close() })
}
