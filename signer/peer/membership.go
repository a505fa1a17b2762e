package peer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/pki"
)

// ErrNotMember means a certificate does not belong to a cluster member.
var ErrNotMember = errors.New("peer: not a cluster member")

// Member is one node of the cluster as the configuration names it.
type Member struct {
	ID          string
	Address     string // host:port of its peer listener
	IdentityKey ed25519.PublicKey
}

// Membership is the cluster's node list.
type Membership map[string]Member

// check reads a member from its identity certificate (verified by the
// caller): a node certificate naming a member and holding exactly its
// pinned identity key. want, when set, is the node the caller expects.
func (m Membership) check(identity *x509.Certificate, want string) (string, error) {
	id, err := pki.IdentityOf(identity)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotMember, err)
	}
	if id.Role != pki.RoleNode {
		return "", fmt.Errorf("%w: %q has role %q", ErrNotMember, id.Name, id.Role)
	}
	mem, ok := m[id.Name]
	if !ok {
		return "", fmt.Errorf("%w: %q is not in the cluster", ErrNotMember, id.Name)
	}
	pub, ok := identity.PublicKey.(ed25519.PublicKey)
	if !ok || !bytes.Equal(pub, mem.IdentityKey) {
		return "", fmt.Errorf("%w: %q presented a key that is not its configured identity key", ErrNotMember, id.Name)
	}
	if want != "" && id.Name != want {
		return "", fmt.Errorf("%w: expected %q, reached %q", ErrNotMember, want, id.Name)
	}
	return id.Name, nil
}
