package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

type node struct {
	ca       *CA
	identity *x509.Certificate
	key      ed25519.PrivateKey
}

func newNode(t *testing.T, ca *CA, name, role string) node {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	c, err := ca.Issue(name, role, pub, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return node{ca: ca, identity: c, key: priv}
}

func (n node) endorse(t *testing.T, purpose string, from, to time.Time) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, err := Endorse(n.identity, n.key, k.Public(), purpose, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forge signs a TLS certificate in identity's name with signer, which is
// not identity's key (x509 would refuse a mismatched parent, so the parent
// is a copy carrying signer's public key).
func forge(t *testing.T, identity *x509.Certificate, signer crypto.Signer, purpose string, validity time.Duration) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parent := *identity
	parent.PublicKey = signer.Public()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: identity.Subject, NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(validity), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{{Scheme: purposeScheme, Opaque: purpose}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, k.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyEndorsed(t *testing.T) {
	ca, _, err := NewCA("c", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := NewCA("other", time.Hour)
	n1 := newNode(t, ca, "node1", RoleNode)
	stranger := newNode(t, other, "node1", RoleNode)
	_, rogue, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	live := func(purpose string) *x509.Certificate {
		return n1.endorse(t, purpose, now.Add(-time.Minute), now.Add(time.Hour))
	}
	tests := []struct {
		name    string
		chain   []*x509.Certificate
		purpose string
		usage   x509.ExtKeyUsage
		at      time.Time
		want    string // error fragment; "" = accepted
	}{
		{"ok/peer key endorsed by node1, as a client", []*x509.Certificate{live(PurposePeer), n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, ""},
		{"ok/peer key endorsed by node1, as a server", []*x509.Certificate{live(PurposePeer), n1.identity}, PurposePeer, x509.ExtKeyUsageServerAuth, now, ""},
		{"ok/api key as a server", []*x509.Certificate{live(PurposeAPI), n1.identity}, PurposeAPI, x509.ExtKeyUsageServerAuth, now, ""},
		{"fail/the identity certificate alone (its key is the HSM key)", []*x509.Certificate{n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "1 certificates"},
		{"fail/a third certificate", []*x509.Certificate{live(PurposePeer), n1.identity, ca.Cert}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "3 certificates"},
		{"fail/TLS key signed by another key in node1's name", []*x509.Certificate{forge(t, n1.identity, rogue, PurposePeer, time.Hour), n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "not signed by its identity key"},
		{"fail/identity from another CA", []*x509.Certificate{stranger.endorse(t, PurposePeer, now.Add(-time.Minute), now.Add(time.Hour)), stranger.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "identity certificate"},
		{"fail/raft key on the peer listener", []*x509.Certificate{live(PurposeRaft), n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, `for "raft"`},
		{"fail/api key used as a client", []*x509.Certificate{live(PurposeAPI), n1.identity}, PurposeAPI, x509.ExtKeyUsageClientAuth, now, "does not allow"},
		{"fail/expired", []*x509.Certificate{n1.endorse(t, PurposePeer, now.Add(-2*time.Hour), now.Add(-time.Hour)), n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "not valid now"},
		{"fail/not yet valid", []*x509.Certificate{n1.endorse(t, PurposePeer, now.Add(10*time.Minute), now.Add(time.Hour)), n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "not valid now"},
		{"fail/longer than MaxEndorsement", []*x509.Certificate{forge(t, n1.identity, n1.key, PurposePeer, MaxEndorsement+time.Hour), n1.identity}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "lives longer"},
		{"fail/swapped order", []*x509.Certificate{n1.identity, live(PurposePeer)}, PurposePeer, x509.ExtKeyUsageClientAuth, now, "identity certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := VerifyEndorsed(tc.chain, roots, tc.purpose, tc.usage, tc.at)
			if tc.want == "" {
				if err != nil || id != n1.identity {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrEndorsement) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrEndorsement with %q", err, tc.want)
			}
		})
	}
}

// What a node endorses is not a certificate anyone else accepts: standard
// chain building refuses it, since the identity certificate is not a CA
// (so a compromised node cannot mint client or node certificates).
func TestEndorsedIsNotAChainOfTheCA(t *testing.T) {
	ca, _, _ := NewCA("c", time.Hour)
	n1 := newNode(t, ca, "node1", RoleNode)
	leaf := n1.endorse(t, PurposeAPI, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ca.Cert)
	inter.AddCert(n1.identity)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Fatal("an endorsed certificate verifies as a chain of the cluster CA")
	}
}

func TestVerifyNode(t *testing.T) {
	ca, _, _ := NewCA("c", time.Hour)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	n1 := newNode(t, ca, "node1", RoleNode)
	op := newNode(t, ca, "node1", RoleOperator)
	now := time.Now()
	chain := []*x509.Certificate{n1.endorse(t, PurposeAPI, now.Add(-time.Minute), now.Add(time.Hour)), n1.identity}
	if err := VerifyNode(chain, roots, "node1", PurposeAPI, now); err != nil {
		t.Fatalf("ok/node1: %v", err)
	}
	if err := VerifyNode(chain, roots, "node2", PurposeAPI, now); err == nil {
		t.Fatal("fail/node1 accepted as node2")
	}
	// a client certificate (ServerAuth missing) is no node
	opChain := []*x509.Certificate{forge(t, op.identity, op.key, PurposeAPI, time.Hour), op.identity}
	if err := VerifyNode(opChain, roots, "node1", PurposeAPI, now); err == nil {
		t.Fatal("fail/an operator certificate accepted as a node")
	}
}

func TestEndorseRefuses(t *testing.T) {
	ca, _, _ := NewCA("c", time.Hour)
	n1 := newNode(t, ca, "node1", RoleNode)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	if _, err := Endorse(n1.identity, n1.key, k.Public(), "ssh", now, now.Add(time.Hour)); err == nil {
		t.Error("fail/unknown purpose endorsed")
	}
	// the identity expires in an hour: a week's endorsement is cut to it,
	// but a three-day one from a longer-lived identity is refused
	c, err := Endorse(n1.identity, n1.key, k.Public(), PurposePeer, now, now.Add(7*24*time.Hour))
	if err != nil || c.NotAfter.After(n1.identity.NotAfter) {
		t.Errorf("ok/endorsement cut to the identity's end: %v", err)
	}
	long, _ := ca.Issue("node2", RoleNode, n1.key.Public(), nil, 30*24*time.Hour)
	if _, err := Endorse(long, n1.key, k.Public(), PurposePeer, now, now.Add(72*time.Hour)); err == nil {
		t.Error("fail/endorsement longer than MaxEndorsement")
	}
}
