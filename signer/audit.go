package signer

import (
	"context"
	"fmt"
	"time"

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

// auditTries and auditRetry bound logAuditDurably's retries.
const (
	auditTries = 5
	auditRetry = 200 * time.Millisecond
)

// logAuditDurably records an outcome that must not go unlogged (a
// signature produced, a session failed) whatever happens to the caller:
// it runs without the caller's cancellation (a coordinator that dies
// mid-session cancels it) and retries a failed append a few times.
func (n *Node) logAuditDurably(ctx context.Context, rec audit.Record) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for try := range auditTries {
		if err = n.appendAudit(ctx, []audit.Record{rec}); err == nil {
			return nil
		}
		time.Sleep(auditRetry << try)
	}
	n.log.Error("audit log: outcome not recorded", "kind", rec.Kind, "err", err)
	return err
}
