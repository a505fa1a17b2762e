package signer

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer/connlimit"
	"github.com/cofferhq/coffer/signer/tlskey"
)

// tlsKeys are the node's TLS keys, one per listener, each a software key
// endorsed by the HSM identity key (signer/tlskey): handshakes never call
// the HSM, which signs only their endorsements (three at start, three per
// rotation).
type tlsKeys struct {
	peer, raft, api *tlskey.Key
}

func (n *Node) newTLSKeys(identity *x509.Certificate) (tlsKeys, error) {
	var k tlsKeys
	for _, p := range []struct {
		purpose string
		key     **tlskey.Key
	}{{pki.PurposePeer, &k.peer}, {pki.PurposeRaft, &k.raft}, {pki.PurposeAPI, &k.api}} {
		key, err := tlskey.New(tlskey.Config{Purpose: p.purpose, Identity: identity},
			tlskey.Deps{Signer: n.ks.Identity(), Log: n.log, Now: time.Now}) // peers check validity on their wall clocks
		if err != nil {
			return tlsKeys{}, err
		}
		*p.key = key
	}
	return k, nil
}

// run rotates the three keys until ctx ends.
func (k tlsKeys) run(ctx context.Context) {
	done := make(chan struct{}, 3)
	for _, key := range []*tlskey.Key{k.peer, k.raft, k.api} {
		go func() { key.Run(ctx); done <- struct{}{} }()
	}
	for range 3 {
		<-done
	}
}

// limit bounds each source on one listener (listen.limits); it closes ln
// if it cannot.
func (n *Node) limit(ln net.Listener, name string) (net.Listener, error) {
	l, err := connlimit.Wrap(ln, name, n.cfg.Listen.Limits, n.log)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("listen %s: %w", name, err)
	}
	return l, nil
}
