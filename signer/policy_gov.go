package signer

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// submitPolicy checks a new policy version against this node's own
// governance history (admin quorum of the active version, parent hash,
// no rollback, loosening delay) and records it. The newest version this
// node holds is accepted again without change (relays are idempotent); an
// older one is a rollback and refused.
func (n *Node) submitPolicy(ctx context.Context, doc []byte, sigs [][]byte, at time.Time, replay bool) (policy.Version, error) {
	p, err := policy.Load(doc)
	if err != nil {
		return policy.Version{}, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	var ps []policy.PolicySignature
	for _, b := range sigs {
		s, err := policy.DecodePolicySignatureJSON(b)
		if err != nil {
			return policy.Version{}, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
		}
		ps = append(ps, s)
	}
	n.polMu.Lock()
	defer n.polMu.Unlock()
	if n.history == nil {
		return policy.Version{}, ErrNoPolicy
	}
	if head := n.history.Head(); head.Policy.Hash() == p.Hash() {
		return head, nil // already the newest version here: a relay
	}
	v, err := n.history.Submit(p, ps, at)
	if err != nil {
		return policy.Version{}, fmt.Errorf("%w: %v", ErrPolicyRefused, err)
	}
	n.pv = nil
	if replay {
		return v, nil
	}
	if err := n.store.AppendPolicy(ledger.PolicyVersion{Document: doc, Signatures: sigs, At: at, Hash: p.Hash().String()}); err != nil {
		return v, err
	}
	n.logAudit(ctx, audit.Record{Kind: audit.KindPolicyActivated, Time: at, Policy: &audit.PolicyActivated{Version: p.Version(),
		Hash: audit.Digest(p.Hash()), Parent: audit.Digest(p.Parent()), Approvers: v.Signers, EffectiveAt: v.EffectiveAt}})
	n.log.Info("policy version accepted", "version", p.Version(), "hash", p.Hash().Short(), "change", v.Change.Kind.String(), "effective", v.EffectiveAt)
	return v, nil
}

// replayPolicies rebuilds the history from the versions this node accepted.
func (n *Node) replayPolicies() error {
	vs, err := n.store.Policies()
	if err != nil {
		return err
	}
	for _, v := range vs {
		if _, err := n.submitPolicy(context.Background(), v.Document, v.Signatures, v.At, true); err != nil {
			return fmt.Errorf("replay policy %s: %w", v.Hash, err)
		}
	}
	return nil
}

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
