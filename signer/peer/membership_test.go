package peer

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pki"
)

func TestMembershipCheck(t *testing.T) {
	ca, _, err := pki.NewCA("t", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub1, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	m := Membership{"node1": {ID: "node1", IdentityKey: pub1}}
	issue := func(name, role string, pub ed25519.PublicKey) func() (string, error) {
		return func() (string, error) {
			c, err := ca.Issue(name, role, pub, nil, time.Hour)
			if err != nil {
				return "", err
			}
			return m.check(c, "")
		}
	}
	tests := []struct {
		name string
		run  func() (string, error)
		ok   bool
	}{
		{"ok/member with its key", issue("node1", pki.RoleNode, pub1), true},
		{"fail/member name, other key", issue("node1", pki.RoleNode, other), false},
		{"fail/not a member", issue("node2", pki.RoleNode, pub1), false},
		{"fail/client role", issue("node1", pki.RoleOperator, pub1), false},
		{"fail/expected another node", func() (string, error) {
			c, _ := ca.Issue("node1", pki.RoleNode, pub1, nil, time.Hour)
			return m.check(c, "node2")
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.run()
			if tc.ok && (err != nil || id != "node1") {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrNotMember) {
				t.Fatalf("accepted or wrong error: %q %v", id, err)
			}
		})
	}
}
