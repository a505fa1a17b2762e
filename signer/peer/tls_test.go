package peer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer/tlskey"
)

// countingHSM is an identity key that counts its signatures.
type countingHSM struct {
	ed25519.PrivateKey
	signs atomic.Int64
}

func (h *countingHSM) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	h.signs.Add(1)
	return h.PrivateKey.Sign(r, msg, o)
}

// staticKey presents a fixed chain (for forgeries).
type staticKey struct {
	purpose string
	cert    *tls.Certificate
}

func (s staticKey) Purpose() string { return s.purpose }
func (s staticKey) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cert, nil
}
func (s staticKey) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return s.cert, nil
}

// answering is a Handler that answers RaftInfo with the caller's name
// length, so a test sees whom the server took the caller for.
type answering struct{ from atomic.Value }

func (a *answering) Prepare(context.Context, string, *peerpb.PrepareRequest) error { return nil }
func (a *answering) RunSession(context.Context, string, *peerpb.RunRequest) (*peerpb.RunResponse, error) {
	return &peerpb.RunResponse{}, nil
}
func (a *answering) Deliver(context.Context, string, *peerpb.Envelope) error   { return nil }
func (a *answering) Abort(context.Context, string, *peerpb.AbortRequest) error { return nil }
func (a *answering) Forward(context.Context, string, []byte) error             { return nil }
func (a *answering) RaftInfo(_ context.Context, from string) (uint64, error) {
	a.from.Store(from)
	return 42, nil
}
func (a *answering) Cosign(context.Context, string, *peerpb.CosignRequest) (*peerpb.CosignResponse, error) {
	return &peerpb.CosignResponse{}, nil
}

type member struct {
	identity *x509.Certificate
	hsm      *countingHSM
}

type fixture struct {
	ca      *pki.CA
	members Membership
	nodes   map[string]member
	revoked *pki.Revocations
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ca, _, err := pki.NewCA("c", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ca: ca, members: Membership{}, nodes: map[string]member{}}
	for _, name := range []string{"node1", "node2"} {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		id, err := ca.Issue(name, pki.RoleNode, pub, []string{"127.0.0.1"}, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f.nodes[name] = member{identity: id, hsm: &countingHSM{PrivateKey: priv}}
		f.members[name] = Member{ID: name, IdentityKey: pub}
	}
	return f
}

func (f *fixture) key(t *testing.T, name, purpose string) KeySource {
	t.Helper()
	n := f.nodes[name]
	k, err := tlskey.New(tlskey.Config{Purpose: purpose, Identity: n.identity}, tlskey.Deps{Signer: n.hsm, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) creds(key KeySource) Credentials {
	return Credentials{Key: key, CA: f.ca.Cert, Revoked: revocationsFunc(func(c *x509.Certificate) error { return f.revoked.Check(c) })}
}

type revocationsFunc func(*x509.Certificate) error

func (r revocationsFunc) Check(c *x509.Certificate) error { return r(c) }

// chain presents identity with a fresh TLS key signed by signer (a forgery
// unless signer holds identity's key).
func chain(t *testing.T, identity *x509.Certificate, signer crypto.Signer, purpose string) *tls.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parent := *identity
	parent.PublicKey = signer.Public()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: identity.Subject, NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{{Scheme: "coffer-tls", Opaque: purpose}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, k.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der, identity.Raw}, PrivateKey: k, Leaf: leaf}
}

// serve runs node1's peer server and returns its address.
func (f *fixture) serve(t *testing.T, key KeySource, h Handler) string {
	t.Helper()
	s, err := NewServer(f.creds(key), f.members, h, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Kill)
	return ln.Addr().String()
}

func call(t *testing.T, addr string, tc *tls.Config) error {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = peerpb.NewPeerClient(cc).RaftInfo(ctx, &peerpb.RaftInfoRequest{})
	return err
}

// A peer is accepted only with a live TLS key that its pinned identity
// endorsed for this listener, and not revoked; and no handshake, accepted
// or refused, costs the server an HSM signature.
func TestPeerHandshakes(t *testing.T) {
	f := newFixture(t)
	h := &answering{}
	serverKey := f.key(t, "node1", pki.PurposePeer)
	addr := f.serve(t, serverKey, h)
	n1HSM := f.nodes["node1"].hsm
	afterStart := n1HSM.signs.Load()

	n2 := f.nodes["node2"]
	_, rogue, _ := ed25519.GenerateKey(rand.Reader)
	unpinned, _ := f.ca.Issue("node2", pki.RoleNode, rogue.Public(), []string{"127.0.0.1"}, time.Hour)
	as := func(k KeySource) *tls.Config { return ClientTLS(f.creds(k), f.members, "node1") }
	tests := []struct {
		name   string
		tc     func() *tls.Config
		revoke func()
		ok     bool
	}{
		{"ok/node2 with its endorsed peer key", func() *tls.Config { return as(f.key(t, "node2", pki.PurposePeer)) }, nil, true},
		{"fail/node2's identity with a TLS key it did not endorse", func() *tls.Config {
			return as(staticKey{pki.PurposePeer, chain(t, n2.identity, rogue, pki.PurposePeer)})
		}, nil, false},
		{"fail/node2's identity certificate alone, the HSM key in the handshake", func() *tls.Config {
			return as(staticKey{pki.PurposePeer, &tls.Certificate{Certificate: [][]byte{n2.identity.Raw}, PrivateKey: n2.hsm.PrivateKey, Leaf: n2.identity}})
		}, nil, false},
		{"fail/node2's raft key on the peer listener", func() *tls.Config { return as(f.key(t, "node2", pki.PurposeRaft)) }, nil, false},
		{"fail/a CA certificate for node2 with an unpinned key, self-endorsed", func() *tls.Config {
			return as(staticKey{pki.PurposePeer, chain(t, unpinned, rogue, pki.PurposePeer)})
		}, nil, false},
		{"fail/node2's identity revoked by serial", func() *tls.Config { return as(f.key(t, "node2", pki.PurposePeer)) }, func() {
			f.revoked, _ = pki.NewRevocations([]string{pki.SerialHex(n2.identity)}, nil)
		}, false},
		{"fail/no client certificate", func() *tls.Config {
			c := as(f.key(t, "node2", pki.PurposePeer))
			c.GetClientCertificate = nil
			return c
		}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.revoked = nil
			if tc.revoke != nil {
				tc.revoke()
			}
			h.from.Store("")
			err := call(t, addr, tc.tc())
			if tc.ok && (err != nil || h.from.Load() != "node2") {
				t.Fatalf("refused: %v (caller %q)", err, h.from.Load())
			}
			if !tc.ok && (err == nil || h.from.Load() != "") {
				t.Fatalf("accepted as %q", h.from.Load())
			}
		})
	}
	f.revoked = nil
	// no client certificate at all, many times: still no HSM operation
	for range 50 {
		conn, err := tls.Dial("tcp", addr, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
		if err == nil {
			_ = conn.Close()
		}
	}
	if got := n1HSM.signs.Load() - afterStart; got != 0 {
		t.Fatalf("node1's HSM signed %d times during the handshakes, want 0", got)
	}
}

// A revocation reaches a connection opened before it, on its next call.
func TestRevocationOnAnOpenPeerConnection(t *testing.T) {
	f := newFixture(t)
	h := &answering{}
	addr := f.serve(t, f.key(t, "node1", pki.PurposePeer), h)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(ClientTLS(f.creds(f.key(t, "node2", pki.PurposePeer)), f.members, "node1"))))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	p := peerpb.NewPeerClient(cc)
	ctx := context.Background()
	if _, err := p.RaftInfo(ctx, &peerpb.RaftInfoRequest{}); err != nil {
		t.Fatalf("ok/before revocation: %v", err)
	}
	f.revoked, _ = pki.NewRevocations(nil, []string{spkiHex(f.nodes["node2"].identity)})
	_, err = p.RaftInfo(ctx, &peerpb.RaftInfoRequest{})
	if err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("fail/after revocation: %v", err)
	}
}

func spkiHex(c *x509.Certificate) string {
	h := pki.SPKIHash(c)
	return hex.EncodeToString(h[:])
}

// The dialing side refuses a server that is not the member it dialed, or
// whose TLS key that member did not endorse.
func TestClientRefusesUnendorsedServers(t *testing.T) {
	f := newFixture(t)
	_, rogue, _ := ed25519.GenerateKey(rand.Reader)
	n1 := f.nodes["node1"]
	client := func(want string) *tls.Config {
		return ClientTLS(f.creds(f.key(t, "node2", pki.PurposePeer)), f.members, want)
	}
	forged := f.serve(t, staticKey{pki.PurposePeer, chain(t, n1.identity, rogue, pki.PurposePeer)}, &answering{})
	if err := call(t, forged, client("node1")); err == nil {
		t.Fatal("fail/accepted node1's identity with a TLS key node1 did not endorse")
	}
	real := f.serve(t, f.key(t, "node1", pki.PurposePeer), &answering{})
	if err := call(t, real, client("node2")); err == nil || !strings.Contains(err.Error(), "expected") {
		t.Fatalf("fail/accepted node1 when dialing node2: %v", err)
	}
	if err := call(t, real, client("node1")); err != nil {
		t.Fatalf("ok/node1: %v", err)
	}
}
