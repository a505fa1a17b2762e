package signer

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/signer/gate"
	"github.com/cofferhq/coffer/signer/workflow"
)

// newWorkflow wires the transfer workflow to this node.
func (n *Node) newWorkflow() (*workflow.Workflow, error) {
	return workflow.New(workflow.Config{
		Node: n.cfg.Node, Store: n.store, Gate: n.gate, Log: n.log, Now: func() time.Time { return n.now() },
		SessionTimeout: time.Duration(n.cfg.Sessions.Timeout),
		Policy:         func(now time.Time) (*gate.PolicyView, error) { return n.activePolicy(now) },
		Propose:        n.propose,
		Applied: func() uint64 {
			if n.rep == nil {
				return 0
			}
			return n.rep.Applied()
		},
		Coordinate: func(ctx context.Context, spec *peerpb.SessionSpec) error {
			_, err := n.coordinate(ctx, spec, nil)
			return err
		},
		Audit: nodeAuditor{n},
	})
}

// nodeAuditor is the node's audit log as the workflow writes it.
type nodeAuditor struct{ n *Node }

func (a nodeAuditor) Append(ctx context.Context, recs []audit.Record) error {
	return a.n.appendAudit(ctx, recs)
}
func (a nodeAuditor) Log(ctx context.Context, rec audit.Record) { a.n.logAudit(ctx, rec) }

// PrepareUnreachable implements workflow.SessionFailure.
func (e *SessionFailedError) PrepareUnreachable() ([]string, bool) {
	all := e.Stage == "prepare" && len(e.Unreachable) > 0 && len(e.Unreachable) == len(e.Nodes)
	return e.Unreachable, all
}
