package signer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/replica"
)

// proposeTimeout bounds one proposal to the replicated log.
const proposeTimeout = 15 * time.Second

// startReplica joins the raft cluster: the ledger becomes the state
// machine of the replicated log (DESIGN.md §10).
func (n *Node) startReplica() error {
	keys := map[string]ed25519.PublicKey{}
	voters := map[string]string{}
	for _, m := range n.members {
		keys[m.ID] = m.IdentityKey
	}
	for _, m := range n.cfg.Members {
		voters[m.ID] = m.Raft
	}
	n.store.SetApprovalVerifier(approvalVerifier{n})
	n.store.SetPolicyVerifier(policyAcceptor{n})
	rep, err := replica.New(replica.Config{
		Node: n.cfg.Node, Cluster: n.cfg.Cluster, Dir: n.cfg.Store.RaftDir, Bind: n.cfg.Listen.Raft,
		Voters: voters, Keys: keys, Credentials: n.raftCreds, Limits: n.cfg.Listen.Limits, Membership: n.members, Identity: n.ks.Identity(),
		Store: n.store, Forwarder: forwarder{n}, PeerLog: n.peerLog, Log: n.log,
		HeartbeatTimeout: time.Duration(n.cfg.Replication.HeartbeatTimeout),
		CommitTimeout:    time.Duration(n.cfg.Replication.CommitTimeout),
		SnapshotEvery:    n.cfg.Replication.SnapshotEvery,
	})
	if err != nil {
		return err
	}
	rep.Observe(n.observe)
	n.rep = rep
	return n.recoverKeys()
}

// recoverKeys copies this node's key records (its shares sealed by its own
// HSM) from the replicated log into its key registry where they are
// missing or older: a node whose store was lost signs again.
func (n *Node) recoverKeys() error {
	c, err := n.store.RecoverKeys(n.cfg.Node)
	if err != nil {
		return err
	}
	if c > 0 {
		n.log.Info("key shares recovered from the replicated log", "keys", c)
	}
	return nil
}

// propose appends a command to the replicated log and returns the transfer
// as this node's own state machine applied it.
func (n *Node) propose(ctx context.Context, cmd ledger.Command) (ledger.Transfer, error) {
	if n.rep == nil {
		return ledger.Transfer{}, errors.New("the node is not replicating yet")
	}
	ctx, cancel := context.WithTimeout(ctx, proposeTimeout)
	defer cancel()
	res, err := n.rep.Propose(ctx, cmd)
	return res.Transfer, err
}

// observe runs, in log order, for every entry this node applies.
func (n *Node) observe(r replica.Result) {
	switch {
	case r.Kind == "" && r.Err == nil: // a snapshot was restored
		if err := n.reloadPolicies(); err != nil {
			n.log.Error("reload policies after a snapshot", "err", err)
		}
		if err := n.recoverKeys(); err != nil {
			n.log.Error("recover key shares after a snapshot", "err", err)
		}
	case r.Err != nil:
		return
	case r.Kind == ledger.CmdSubmit:
		if err := n.store.MarkSeen(r.ID, n.now()); err != nil {
			n.log.Error("record when a request was seen", "request", r.ID, "err", err)
		}
	case r.Kind == ledger.CmdPolicy:
		if err := n.syncWhitelistSeen(); err != nil {
			// fails closed: an entry without a record is seen now
			n.log.Error("record whitelist entries seen", "err", err)
		}
		n.logPolicyActivated(strings.TrimPrefix(r.ID, "policy:"))
		if n.flow != nil {
			n.flow.WakeAll() // a new version may change any open request's decision
		}
	case r.Kind == ledger.CmdKey && r.Proposer == n.cfg.Node:
		if err := n.recoverKeys(); err != nil {
			n.log.Error("recover key shares", "err", err)
		}
	}
	if r.Transfer.ID != "" && r.Transfer.Home == n.cfg.Node && n.flow != nil {
		n.flow.Wake(r.Transfer.ID)
	}
}

// Forward implements peer.Handler: a member hands the leader one of its
// own signed entries.
func (n *Node) Forward(ctx context.Context, from string, entry []byte) error {
	if n.rep == nil {
		return errors.New("not replicating yet")
	}
	return n.rep.HandleForward(ctx, from, entry)
}

// RaftInfo implements peer.Handler: how long this node's log is.
func (n *Node) RaftInfo(context.Context, string) (uint64, error) {
	if n.rep == nil {
		return 0, nil
	}
	return n.rep.Status().Last, nil
}

// peerLog asks every other member how long its log is and returns the
// longest and how many answered.
func (n *Node) peerLog(ctx context.Context) (uint64, int, error) {
	var top uint64
	answered := 0
	for _, id := range n.memberIDs() {
		if id == n.cfg.Node {
			continue
		}
		cl, err := n.client.Peer(id)
		if err != nil {
			continue
		}
		r, err := cl.RaftInfo(ctx, &peerpb.RaftInfoRequest{})
		if err != nil {
			continue
		}
		answered++
		top = max(top, r.LastIndex)
	}
	return top, answered, nil
}

// forwarder sends entries to the leader over the peer transport.
type forwarder struct{ n *Node }

func (f forwarder) Forward(ctx context.Context, leader string, entry []byte) error {
	cl, err := f.n.client.Peer(leader)
	if err != nil {
		return err
	}
	_, err = cl.Forward(ctx, &peerpb.ForwardRequest{Entry: entry})
	return err
}

// approvalVerifier checks replicated approvals against the officer keys of
// the policy version the transfer was submitted under.
type approvalVerifier struct{ n *Node }

func (v approvalVerifier) VerifyApproval(policyHash string, digest []byte, a ledger.Approval) error {
	p, err := v.n.policyByHash(policyHash)
	if err != nil {
		return err
	}
	var verdict policy.Verdict
	if err := verdict.UnmarshalText([]byte(a.Verdict)); err != nil {
		return err
	}
	return policy.VerifyApproval(p, a.Officer, policy.Hash(digest), verdict, a.SignedAt, a.Signature)
}

// policyAcceptor runs the governance check of a replicated policy version
// on this node's history, in log order.
type policyAcceptor struct{ n *Node }

func (a policyAcceptor) AcceptPolicy(v ledger.PolicyVersion) error {
	// called inside the ledger's write transaction: nothing here may write
	// the store (the audit record is appended by observe, after it)
	_, _, err := a.n.submitToHistory(v.Document, v.Signatures, v.At)
	return err
}

// policyByHash finds a version of the node's policy history by its hash.
func (n *Node) policyByHash(hash string) (*policy.Policy, error) {
	n.polMu.Lock()
	defer n.polMu.Unlock()
	if n.history == nil {
		return nil, ErrNoPolicy
	}
	for _, v := range n.history.Versions() {
		if v.Policy.Hash().String() == hash {
			return v.Policy, nil
		}
	}
	return nil, fmt.Errorf("policy %.12s is not in this node's history", hash)
}

func (n *Node) memberIDs() []string {
	out := make([]string, 0, len(n.cfg.Members))
	for _, m := range n.cfg.Members {
		out = append(out, m.ID)
	}
	return out
}
