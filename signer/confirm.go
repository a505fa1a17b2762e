package signer

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
)

// identityConfirmer signs keygen confirmations with this node's HSM
// identity key and checks other nodes' against the identity keys pinned
// in the members (the same keys their TLS and audit checkpoints use).
type identityConfirmer struct{ n *Node }

func (c identityConfirmer) Sign(msg []byte) ([]byte, error) {
	sig, err := c.n.ks.Identity().Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	return sig, nil
}

func (c identityConfirmer) Verify(node string, msg, sig []byte) error {
	m, ok := c.n.members[node]
	if !ok {
		return fmt.Errorf("%s is not a member", node)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(m.IdentityKey, msg, sig) {
		return errors.New("not signed by its identity key")
	}
	return nil
}
