package signer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/pki"
)

// soloNode is a whole one-node cluster in this process: config files, an
// in-memory HSM that counts its operations, a store; Run serving the peer,
// raft and API listeners on 127.0.0.1.
type soloNode struct {
	n    *Node
	cfg  *Config
	hsm  *hsmtest.Counting
	ca   *pki.CA
	pool *x509.CertPool
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startSoloNode(t *testing.T) *soloNode { return startSoloNodeWith(t, "") }

// startSoloNodeWith is startSoloNode with extra YAML under listen:.
func startSoloNodeWith(t *testing.T, listen string) *soloNode {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := pki.NewCA("c", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ks := hsmtest.NewCounting(hsmtest.NewMemory())
	pub := ks.Identity().Public().(ed25519.PublicKey)
	cert, err := ca.Issue("node1", pki.RoleNode, pub, []string{"127.0.0.1"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"ca.pem": pki.CertPEM(ca.Cert), "cert.pem": pki.CertPEM(cert)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	peerAddr, apiAddr, raftAddr := freeLoopback(t), freeLoopback(t), freeLoopback(t)
	doc := strings.NewReplacer("PEER", peerAddr, "API", apiAddr, "RAFT", raftAddr, "KEY", hex.EncodeToString(pub), " LISTEN", listen).Replace(`
node: node1
cluster: c
listen: {peer: PEER, api: API, raft: RAFT LISTEN}
tls: {ca: ca.pem, cert: cert.pem}
store: {path: node.db}
hsm: {pkcs11: {module: /usr/lib/softhsm/libsofthsm2.so, token_label: unused, pin_env: UNUSED}} # the test's keystore is in memory
members:
  - {id: node1, peer: PEER, api: API, raft: RAFT, identity_key: KEY}
`)
	cfg, err := DecodeConfig(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	cfg.resolve(dir)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ledger.Open(cfg.Store.Path, ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	n, err := New(cfg, Deps{Keystore: ks, Store: st, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		_ = n.Close()
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	s := &soloNode{n: n, cfg: cfg, hsm: ks, ca: ca, pool: pool}
	// serving: an operator's call passes the handshake and authorization
	op := s.client(t, "op", pki.RoleOperator)
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := s.status(t, s.dial(t, op))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node does not serve: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

func (s *soloNode) client(t *testing.T, name, role string) *tls.Certificate {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	c, err := s.ca.Issue(name, role, pub, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: priv, Leaf: c}
}

// dial makes a client connection to the API as cert (closed at cleanup;
// grpc connects on the first call).
func (s *soloNode) dial(t *testing.T, cert *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	tc := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert}, InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return pki.VerifyNode(cs.PeerCertificates, s.pool, "node1", pki.PurposeAPI, time.Now())
		}}
	cc, err := grpc.NewClient(s.cfg.Listen.API, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// status calls Operator.Status on cc.
func (s *soloNode) status(t *testing.T, cc *grpc.ClientConn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := operatorpb.NewOperatorClient(cc).Status(ctx, &operatorpb.StatusRequest{})
	return err
}

// certless opens a TLS 1.3 connection without a client certificate and
// completes the handshake on its side (the server has then signed its
// CertificateVerify); it returns the key the server signed with.
func certless(t *testing.T, addr string) any {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Read(make([]byte, 1)) // the server's refusal
	return c.ConnectionState().PeerCertificates[0].PublicKey
}

// The acceptance test of "TLS without the HSM": after start-up, clients
// without a certificate handshaking with every listener of a running node
// cost its HSM no operation at all; each listener presents its own
// software key, not the identity key.
func TestHandshakesCostNoHSMOperation(t *testing.T) {
	s := startSoloNode(t)
	if got := s.hsm.Signs(); got < 3 {
		t.Fatalf("the counter saw %d identity signatures at start-up; the three endorsements at least were expected", got)
	}
	// wait for start-up's own operations (raft election, audit) to settle
	last, stable := s.hsm.Ops(), time.Now()
	for time.Since(stable) < time.Second {
		time.Sleep(100 * time.Millisecond)
		if now := s.hsm.Ops(); now != last {
			last, stable = now, time.Now()
		}
	}
	before := s.hsm.Ops()
	const n = 30
	identity := s.hsm.Identity().Public()
	keys := map[string]any{}
	for name, addr := range map[string]string{"peer": s.cfg.Listen.Peer, "api": s.cfg.Listen.API, "raft": s.cfg.Listen.Raft} {
		for range n {
			key := certless(t, addr)
			if k, ok := key.(ed25519.PublicKey); ok && k.Equal(identity) {
				t.Fatalf("the %s listener handshakes with the HSM identity key", name)
			}
			keys[name] = key
		}
	}
	if got := s.hsm.Ops() - before; got != 0 {
		t.Fatalf("%d handshakes without a client certificate cost %d HSM operations, want 0", 3*n, got)
	}
	if got := s.hsm.HandshakeSigns(); got != 0 {
		t.Fatalf("the HSM signed %d handshakes", got)
	}
	pk := func(k any) string { b, _ := x509.MarshalPKIXPublicKey(k); return string(b) }
	if pk(keys["peer"]) == pk(keys["api"]) || pk(keys["peer"]) == pk(keys["raft"]) || pk(keys["api"]) == pk(keys["raft"]) {
		t.Fatal("two listeners share a TLS key")
	}
}

// A revocation loaded at run time refuses the revoked client on its next
// call and leaves the others alone.
func TestReloadRevocations(t *testing.T) {
	s := startSoloNode(t)
	alice, bob := s.client(t, "alice", pki.RoleAuditor), s.client(t, "bob", pki.RoleAuditor)
	cfg := *s.cfg
	cfg.TLS.Revoked.Serials = []string{pki.SerialHex(alice.Leaf)}
	if err := s.n.ReloadRevocations(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.status(t, s.dial(t, alice)); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("fail/revoked client: %v", err)
	}
	if err := s.status(t, s.dial(t, bob)); err != nil {
		t.Fatalf("ok/other client: %v", err)
	}
	cfg.TLS.Revoked.Serials = []string{"not hex"}
	if err := s.n.ReloadRevocations(&cfg); err == nil {
		t.Fatal("fail/a malformed list was loaded")
	}
	if err := s.status(t, s.dial(t, alice)); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a malformed reload dropped the list in force: %v", err)
	}
}

// Over listen.limits' connections per source the node refuses new
// connections on its API; a client connected before keeps being served,
// and a slot freed is given again.
func TestConnectionLimitOnTheAPI(t *testing.T) {
	s := startSoloNodeWith(t, ", limits: {max_conns_per_source: 3}")
	op := s.client(t, "op", pki.RoleOperator)
	first := s.dial(t, op)
	if err := s.status(t, first); err != nil {
		t.Fatal(err)
	}
	var raw []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.cfg.Listen.API)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		raw = append(raw, c)
	}
	time.Sleep(100 * time.Millisecond) // the server accepted them
	if err := s.status(t, s.dial(t, op)); status.Code(err) != codes.Unavailable {
		t.Fatalf("fail/a fourth connection from one source was served: %v", err)
	}
	if err := s.status(t, first); err != nil {
		t.Fatalf("ok/the connection opened first stopped working: %v", err)
	}
	_ = raw[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.status(t, s.dial(t, op))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ok/a freed slot was not given again: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
