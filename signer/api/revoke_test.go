package api

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer/tlskey"
)

// countingHSM is the node's identity key, counting its signatures.
type countingHSM struct {
	ed25519.PrivateKey
	signs atomic.Int64
}

func (h *countingHSM) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	h.signs.Add(1)
	return h.PrivateKey.Sign(r, msg, o)
}

// revocationList is a replaceable pki.Revocations, as the node keeps one.
type revocationList struct {
	p atomic.Pointer[pki.Revocations]
}

func (r *revocationList) Check(c *x509.Certificate) error { return r.p.Load().Check(c) }

type apiFixture struct {
	ca      *pki.CA
	hsm     *countingHSM
	revoked *revocationList
	addr    string
}

// newAPIFixture serves the client API's TLS and interceptors (the real
// ones) with every service unimplemented: a call that passes
// authorization ends in Unimplemented.
func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	ca, _, err := pki.NewCA("c", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, err := ca.Issue("node1", pki.RoleNode, pub, []string{"127.0.0.1"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &apiFixture{ca: ca, hsm: &countingHSM{PrivateKey: priv}, revoked: &revocationList{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	key, err := tlskey.New(tlskey.Config{Purpose: pki.PurposeAPI, Identity: id}, tlskey.Deps{Signer: f.hsm, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	s := newGRPCServer(key, ca.Cert, log, f.revoked)
	operatorpb.RegisterOperatorServer(s, operatorpb.UnimplementedOperatorServer{})
	transferpb.RegisterTransfersServer(s, transferpb.UnimplementedTransfersServer{})
	auditpb.RegisterAuditServer(s, auditpb.UnimplementedAuditServer{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	f.addr = ln.Addr().String()
	return f
}

func (f *apiFixture) client(t *testing.T, role string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	c, err := f.ca.Issue("client-"+role, role, pub, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: priv, Leaf: c}, c
}

func (f *apiFixture) dial(t *testing.T, cert *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.Cert)
	tc := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return pki.VerifyNode(cs.PeerCertificates, pool, "node1", pki.PurposeAPI, time.Now())
		}}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	cc, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

var streaming = map[string]bool{
	"/coffer.operator.v1.Operator/Keygen":  true,
	"/coffer.operator.v1.Operator/Reshare": true,
	"/coffer.audit.v1.Audit/Export":        true,
}

// invoke calls method with an empty request and returns its status.
func invoke(cc *grpc.ClientConn, method string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !streaming[method] {
		return cc.Invoke(ctx, method, &emptypb.Empty{}, &emptypb.Empty{})
	}
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method)
	if err != nil {
		return err
	}
	if err := st.SendMsg(&emptypb.Empty{}); err != nil {
		return err
	}
	_ = st.CloseSend()
	return st.RecvMsg(&emptypb.Empty{})
}

// A revoked client certificate is refused on every method of the client
// API, with a message that says so; the same role's other certificate
// reaches every method it may call.
func TestRevokedClientRefusedOnEveryMethod(t *testing.T) {
	f := newAPIFixture(t)
	for method, roles := range methodRoles {
		role := roles[0]
		good, _ := f.client(t, role)
		bad, badCert := f.client(t, role)
		list, err := pki.NewRevocations([]string{pki.SerialHex(badCert)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.revoked.p.Store(list)
		if err := invoke(f.dial(t, &good), method); status.Code(err) != codes.Unimplemented {
			t.Errorf("ok/%s by a %s not revoked: %v", method, role, err)
		}
		err = invoke(f.dial(t, &bad), method)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "revoked") {
			t.Errorf("fail/%s by a revoked %s: %v", method, role, err)
		}
	}
}

// A revocation by key applies to calls on a connection opened before it.
func TestRevocationReachesAnOpenConnection(t *testing.T) {
	f := newAPIFixture(t)
	f.revoked.p.Store(nil)
	cert, leaf := f.client(t, pki.RoleAuditor)
	cc := f.dial(t, &cert)
	const method = "/coffer.audit.v1.Audit/Latest"
	if err := invoke(cc, method); status.Code(err) != codes.Unimplemented {
		t.Fatalf("ok/before: %v", err)
	}
	h := pki.SPKIHash(leaf)
	list, _ := pki.NewRevocations(nil, []string{hex.EncodeToString(h[:])})
	f.revoked.p.Store(list)
	if err := invoke(cc, method); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("fail/after: %v", err)
	}
}

// A client without a certificate costs the node no HSM operation: the
// handshake signs with the endorsed software key.
func TestCertlessClientCostsNoHSMOperation(t *testing.T) {
	f := newAPIFixture(t)
	before := f.hsm.signs.Load()
	const n = 50
	for range n {
		err := invoke(f.dial(t, nil), "/coffer.operator.v1.Operator/Status")
		if status.Code(err) != codes.Unavailable && status.Code(err) != codes.Unauthenticated {
			t.Fatalf("a client without a certificate got %v", err)
		}
	}
	if got := f.hsm.signs.Load() - before; got != 0 {
		t.Fatalf("%d handshakes without a client certificate took %d HSM signatures, want 0", n, got)
	}
}
