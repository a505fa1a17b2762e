package signer

import (
	"crypto/x509"
	"fmt"
	"sync/atomic"

	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer/api"
	"github.com/cofferhq/coffer/signer/peer"
)

// revocations is the node's certificate deny-list (tls.revoked), replaced
// as a whole on reload and read on every call and peer handshake.
type revocations struct {
	list atomic.Pointer[pki.Revocations]
}

var (
	_ peer.Revocations = (*revocations)(nil)
	_ api.Revocations  = (*revocations)(nil)
)

// Check refuses a revoked certificate.
func (r *revocations) Check(c *x509.Certificate) error { return r.list.Load().Check(c) }

// ReloadRevocations replaces the revocation list with cfg's (cofferd
// reloads it on SIGHUP). Calls from a certificate it lists are refused
// from the next call on, on connections already open too.
func (n *Node) ReloadRevocations(cfg *Config) error {
	r, err := cfg.Revocations()
	if err != nil {
		return fmt.Errorf("reload revocations: %w", err)
	}
	n.revoked.list.Store(r)
	n.log.Info("certificate revocation list loaded", "entries", r.Len())
	return nil
}
