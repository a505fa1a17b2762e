package devcluster

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/api/auditpb"
)

// WaitCosigned waits (bounded) until every running node's latest audit
// checkpoint carries at least min cosignatures and the log stopped
// growing: what an export should cover before the nodes stop, so that an
// auditor can require cosignatures on every checkpoint it verifies.
func (c *Cluster) WaitCosigned(ctx context.Context, min int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, n := range c.Layout.Nodes {
		if c.PID(n.ID) == 0 {
			continue
		}
		cl, err := c.Layout.Dial(n.ID)
		if err != nil {
			return err
		}
		err = waitCosigned(ctx, cl.Audit(), min)
		cl.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", n.ID, err)
		}
	}
	return nil
}

func waitCosigned(ctx context.Context, cl auditpb.AuditClient, min int) error {
	var last *auditpb.SignedCheckpoint
	for {
		cp, err := cl.Latest(ctx, &auditpb.LatestRequest{})
		if err == nil && len(cp.Cosigners) >= min && last != nil && last.Size == cp.Size {
			return nil
		}
		if err == nil {
			last = cp
		}
		select {
		case <-ctx.Done():
			if last == nil {
				return fmt.Errorf("latest audit checkpoint: %w", err)
			}
			return fmt.Errorf("latest audit checkpoint (size %d) has %d cosignatures, want %d: %w", last.Size, len(last.Cosigners), min, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
