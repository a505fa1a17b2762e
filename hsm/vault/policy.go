package vault

import (
	"fmt"
	"strings"
)

// NodePolicy is the least-privilege Vault ACL policy (HCL) for a node
// running on cfg: read both keys' descriptions, encrypt and decrypt with
// the seal key, sign with the identity key, and list the audit devices
// (read and sudo on sys/audit, so the node can refuse one that logs raw
// bodies). It grants no "create", so an encrypt can never create a missing
// seal key (transit's upsert), and nothing that exports, backs up,
// rotates, reconfigures or deletes a key, or that changes an audit device.
// Give each node its own policy and credentials: one node's token must not
// reach another node's keys (SECURITY.md, "Vault backend").
func NodePolicy(cfg Config) string {
	cfg = cfg.WithDefaults()
	var b strings.Builder
	rule := func(path, caps string) { fmt.Fprintf(&b, "path %q {\n  capabilities = [%s]\n}\n", path, caps) }
	m := cfg.Mount
	rule(m+"/keys/"+cfg.SealKey, `"read"`)
	rule(m+"/encrypt/"+cfg.SealKey, `"update"`)
	rule(m+"/decrypt/"+cfg.SealKey, `"update"`)
	rule(m+"/keys/"+cfg.IdentityKey, `"read"`)
	rule(m+"/sign/"+cfg.IdentityKey, `"update"`)
	rule(auditPath, `"read", "sudo"`)
	return b.String()
}
