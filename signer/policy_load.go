package signer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/gate"
)

// ErrNoPolicy means the node has no active policy: it refuses transfers.
var ErrNoPolicy = errors.New("no active policy on this node")

// ErrPolicyRefused means a submitted policy version was refused.
var ErrPolicyRefused = errors.New("policy version refused")

// loadPolicy reads the signed genesis policy the config names and checks
// its admin quorum. No policy configured is not an error: the node then
// refuses every transfer.
func loadPolicy(cfg *Config, now time.Time) (*policy.History, error) {
	if cfg.Policy.File == "" {
		return nil, nil
	}
	doc, err := os.ReadFile(cfg.Policy.File)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	p, err := policy.Load(doc)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", cfg.Policy.File, err)
	}
	var sigs []policy.PolicySignature
	for _, f := range cfg.Policy.Signatures {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read policy signature: %w", err)
		}
		s, err := policy.DecodePolicySignatureJSON(b)
		if err != nil {
			return nil, fmt.Errorf("policy signature %s: %w", f, err)
		}
		sigs = append(sigs, s)
	}
	h, err := policy.NewHistory(p, sigs, now)
	if err != nil {
		return nil, fmt.Errorf("activate policy %s: %w", cfg.Policy.File, err)
	}
	return h, nil
}

// activePolicy returns the policy in force now, with its lookups.
func (n *Node) activePolicy(now time.Time) (*gate.PolicyView, error) {
	n.polMu.Lock()
	defer n.polMu.Unlock()
	if n.history == nil {
		return nil, ErrNoPolicy
	}
	if n.history.Frozen() {
		return nil, errors.New("signing is frozen by an admin")
	}
	p := n.history.Active(now)
	if n.pv == nil || n.pv.Policy != p {
		pv, err := gate.NewPolicyView(p)
		if err != nil {
			return nil, err
		}
		n.pv = pv
	}
	return n.pv, nil
}
