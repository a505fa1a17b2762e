package signer

import (
	"context"
	"errors"
	"io"
	"syscall"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/internal/storerestore"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/api"
	"github.com/cofferhq/coffer/signer/gate"
	"github.com/cofferhq/coffer/signer/replica"
	"github.com/cofferhq/coffer/signer/workflow"
)

// apiDeps wires the client API to this node.
func (n *Node) apiDeps() api.Deps {
	members := map[string]string{}
	for _, m := range n.cfg.Members {
		members[m.ID] = m.Raft
	}
	return api.Deps{
		Node: n.cfg.Node, Members: members, SelfTestSigning: n.cfg.SelfTestSigning, PreParamsTarget: n.cfg.PreParams.PoolSize,
		Log: n.log, Now: n.now, Ledger: n.store, Transfers: n.flow, Sessions: apiSessions{n}, Policy: apiPolicy{n},
		Replica: func() api.Replication {
			if n.rep == nil {
				return nil
			}
			return n.rep
		},
		Audit: n.audit, Verifiers: n.auditVerifiers, Classify: n.classify, Revoked: n.revoked,
		Snapshot: func(w io.Writer) (int64, error) { return storerestore.Snapshot(n.store.DB(), w) },
	}
}

// classify is classifyErr, and logs damage of this node's store at ERROR.
func (n *Node) classify(err error) api.Kind {
	if n.logDamage(err, "client request") {
		return api.KindDamaged
	}
	return classifyErr(err)
}

// classifyErr tells the client API what kind of failure a node error is.
func classifyErr(err error) api.Kind {
	var sf *SessionFailedError
	switch {
	case storeDamaged(err): // before KindInvalid: a damaged record is not the caller's input
		return api.KindDamaged
	case errors.Is(err, workflow.ErrIDTaken):
		return api.KindTaken
	case errors.Is(err, gate.ErrIntent), errors.Is(err, workflow.ErrApproval), errors.Is(err, ErrPolicyRefused), errors.Is(err, ledger.ErrInvalid):
		return api.KindInvalid
	case errors.Is(err, ledger.ErrConflict):
		return api.KindConflict
	case errors.Is(err, ledger.ErrTransferNotFound):
		return api.KindNotFound
	case errors.Is(err, ledger.ErrFinal), errors.Is(err, ErrNoPolicy), errors.Is(err, ErrNotParty):
		return api.KindPrecondition
	case errors.As(err, &sf):
		return api.KindAborted
	case errors.Is(err, replica.ErrTimeout), errors.Is(err, replica.ErrNoLeader), errors.Is(err, replica.ErrBroken),
		errors.Is(err, audit.ErrStore), errors.Is(err, syscall.ENOSPC):
		// this node's log or store does not take writes now (a full disk):
		// the client is told why, and may try again or another node
		return api.KindUnavailable
	}
	return api.KindInternal
}

type apiSessions struct{ n *Node }

func (a apiSessions) Coordinate(ctx context.Context, spec *peerpb.SessionSpec, progress api.Progress) (map[string]*peerpb.RunResponse, error) {
	return a.n.coordinate(ctx, spec, progressFn(progress))
}

func (a apiSessions) Active() int {
	a.n.mu.Lock()
	defer a.n.mu.Unlock()
	active := 0
	for _, e := range a.n.sessions {
		if e.state != ended {
			active++
		}
	}
	return active
}

type apiPolicy struct{ n *Node }

func (a apiPolicy) Submit(ctx context.Context, doc []byte, sigs [][]byte) error {
	_, err := a.n.submitPolicy(ctx, doc, sigs)
	return err
}
func (a apiPolicy) Info() *operatorpb.PolicyInfo { return a.n.policyInfo() }
