package signer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/gate"
)

// submitPolicy proposes a new policy version to the replicated log. Every
// node runs the governance check itself when it applies it (acceptPolicy:
// admin quorum of the version in force, parent hash, no rollback, loosening
// delay, as of the entry's time); a version refused there is refused on
// every node. The document and signatures are checked here first so that a
// malformed one gets a clear error and never reaches the log.
func (n *Node) submitPolicy(ctx context.Context, doc []byte, sigs [][]byte) (policy.Version, error) {
	p, err := policy.Load(doc)
	if err != nil {
		return policy.Version{}, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	for _, b := range sigs {
		if _, err := policy.DecodePolicySignatureJSON(b); err != nil {
			return policy.Version{}, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
		}
	}
	n.polMu.Lock()
	noPolicy := n.history == nil
	n.polMu.Unlock()
	if noPolicy {
		return policy.Version{}, ErrNoPolicy
	}
	h := p.Hash().String()
	_, err = n.propose(ctx, ledger.Command{Kind: ledger.CmdPolicy, At: n.now().UTC(), ID: "policy:" + h,
		Policy: &ledger.PolicyVersion{Document: doc, Signatures: sigs, Hash: h}})
	if err != nil {
		if errors.Is(err, ledger.ErrRefused) {
			return policy.Version{}, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
		}
		return policy.Version{}, err
	}
	n.polMu.Lock()
	defer n.polMu.Unlock()
	for _, v := range n.history.Versions() {
		if v.Policy.Hash() == p.Hash() {
			return v, nil
		}
	}
	return policy.Version{}, fmt.Errorf("%w: not in this node's history after it was applied", ErrPolicyRefused)
}

// logPolicyActivated appends the audit record of a version the log just
// accepted into this node's history.
func (n *Node) logPolicyActivated(hash string) {
	n.polMu.Lock()
	var v policy.Version
	found := false
	if n.history != nil {
		for _, x := range n.history.Versions() {
			if x.Policy.Hash().String() == hash {
				v, found = x, true
			}
		}
	}
	n.polMu.Unlock()
	if !found {
		return
	}
	p := v.Policy
	n.logAudit(context.Background(), audit.Record{Kind: audit.KindPolicyActivated, Time: v.SubmittedAt, Policy: &audit.PolicyActivated{Version: p.Version(),
		Hash: audit.Digest(p.Hash()), Parent: audit.Digest(p.Parent()), Approvers: v.Signers, EffectiveAt: v.EffectiveAt}})
	n.log.Info("policy version accepted", "version", p.Version(), "hash", p.Hash().Short(), "change", v.Change.Kind.String(), "effective", v.EffectiveAt)
}

func (n *Node) submitToHistory(doc []byte, sigs [][]byte, at time.Time) (policy.Version, bool, error) {
	p, err := policy.Load(doc)
	if err != nil {
		return policy.Version{}, false, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	var ps []policy.PolicySignature
	for _, b := range sigs {
		s, err := policy.DecodePolicySignatureJSON(b)
		if err != nil {
			return policy.Version{}, false, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
		}
		ps = append(ps, s)
	}
	n.polMu.Lock()
	defer n.polMu.Unlock()
	if n.history == nil {
		return policy.Version{}, false, ErrNoPolicy
	}
	if head := n.history.Head(); head.Policy.Hash() == p.Hash() {
		return head, false, nil
	}
	// every own wallet's addresses come from its key
	pview, err := gate.NewPolicyView(p)
	if err != nil {
		return policy.Version{}, false, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	if err := n.gate.CheckWallets(pview); err != nil {
		return policy.Version{}, false, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	v, err := n.history.Submit(p, ps, at)
	if err != nil {
		return policy.Version{}, false, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	n.pv = nil
	return v, true, nil
}

// replayPolicies rebuilds the history from the versions the replicated
// ledger holds, and records when this node first saw each whitelist entry.
func (n *Node) replayPolicies() error {
	if err := n.replayHistory(); err != nil {
		return err
	}
	return n.syncWhitelistSeen()
}

// replayHistory rebuilds the history from the ledger's versions and
// writes nothing.
func (n *Node) replayHistory() error {
	vs, err := n.store.Policies()
	if err != nil {
		return err
	}
	for _, v := range vs {
		if _, _, err := n.submitToHistory(v.Document, v.Signatures, v.At); err != nil {
			return fmt.Errorf("replay policy %s: %w", v.Hash, err)
		}
	}
	return nil
}

// reloadPolicies rebuilds the history from the genesis and the ledger
// (after the ledger was replaced by a snapshot).
func (n *Node) reloadPolicies() error {
	h, err := loadPolicy(n.cfg, n.genesisAt())
	if err != nil || h == nil {
		return err
	}
	n.polMu.Lock()
	n.history, n.pv = h, nil
	n.polMu.Unlock()
	return n.replayPolicies()
}

// genesisAt is the genesis policy's time in the governance history. It is
// the same on every node, whenever the node started: versions in the
// replicated log are checked against the history in log order, and a
// genesis stamped with a node's start time would make a node that started
// later refuse versions the others accepted.
func (n *Node) genesisAt() time.Time { return time.Unix(0, 0).UTC() }

func (n *Node) policyInfo() *operatorpb.PolicyInfo {
	n.polMu.Lock()
	defer n.polMu.Unlock()
	if n.history == nil {
		return &operatorpb.PolicyInfo{}
	}
	act, head := n.history.ActiveVersion(n.now()), n.history.Head()
	return &operatorpb.PolicyInfo{ActiveHash: act.Policy.Hash().String(), ActiveVersion: act.Policy.Version(),
		HeadHash: head.Policy.Hash().String(), HeadVersion: head.Policy.Version(), HeadEffectiveUnix: head.EffectiveAt.Unix(),
		Change: head.Change.Kind.String(), Signers: head.Signers}
}

// logGenesis records the genesis policy's activation in the audit log, once
// per genesis.
func (n *Node) logGenesis(ctx context.Context) error {
	if n.history == nil {
		return nil
	}
	g := n.history.Versions()[0]
	h := g.Policy.Hash().String()
	if done, err := n.store.Meta("genesis_logged"); err != nil || done == h {
		return err
	}
	err := n.appendAudit(ctx, []audit.Record{{Kind: audit.KindPolicyActivated, Time: n.now().UTC(), Policy: &audit.PolicyActivated{
		Version: g.Policy.Version(), Hash: audit.Digest(g.Policy.Hash()), Approvers: g.Signers, EffectiveAt: g.EffectiveAt}}})
	if err != nil {
		return err
	}
	return n.store.SetMeta("genesis_logged", h)
}
