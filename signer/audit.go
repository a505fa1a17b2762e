package signer

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/audit"
)

// appendAudit makes records durable in this node's audit log; an error
// means they are not logged and the caller must refuse (fail closed).
func (n *Node) appendAudit(ctx context.Context, recs []audit.Record) error {
	if _, err := n.audit.AppendAll(ctx, recs); err != nil {
		return fmt.Errorf("append to audit log: %w", err)
	}
	return nil
}

// logAudit records an outcome that has already happened (a failure, a
// signature); a failure to log it is reported, and the log's own checks
// (a broken log refuses further appends) keep later signing fail closed.
func (n *Node) logAudit(ctx context.Context, rec audit.Record) {
	if err := n.appendAudit(ctx, []audit.Record{rec}); err != nil {
		n.log.Error("audit log", "kind", rec.Kind, "err", err)
	}
}
