package devcluster

import "github.com/cofferhq/coffer/api/auditpb"

// Audit is the audit API of the node the client is connected to; its
// calls need an auditor or operator certificate.
func (c *Client) Audit() auditpb.AuditClient { return auditpb.NewAuditClient(c.conn) }
