package e2e

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
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer"
	"github.com/cofferhq/coffer/signer/peer"
	"github.com/cofferhq/coffer/signer/replica"
	"github.com/cofferhq/coffer/signer/tlskey"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func loadCA(t *testing.T, l *devcluster.Layout) *pki.CA {
	t.Helper()
	ca, err := devcluster.LoadCA(l)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// rawPeer dials a node's peer port presenting chain (a TLS certificate and
// the identity certificate that should have endorsed it) with key, the
// TLS key. It accepts only node1's peer key endorsed by node1's identity.
func rawPeer(t *testing.T, addr string, ca *x509.Certificate, chain []*x509.Certificate, key crypto.Signer) peerpb.PeerClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cert := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "node1", Certificates: []tls.Certificate{cert},
		InsecureSkipVerify: true, // VerifyConnection checks node1's endorsed key
		VerifyConnection: func(cs tls.ConnectionState) error {
			return pki.VerifyNode(cs.PeerCertificates, pool, "node1", pki.PurposePeer, time.Now())
		}}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return peerpb.NewPeerClient(cc)
}

// endorse makes a peer TLS certificate for a fresh key under identity,
// signed by signer: the chain a node presents when signer is identity's
// key, a forgery when it is not.
func endorse(t *testing.T, identity *x509.Certificate, signer crypto.Signer) ([]*x509.Certificate, crypto.Signer) {
	t.Helper()
	tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parent := *identity
	parent.PublicKey = signer.Public() // x509 insists the signer match the parent
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: identity.Subject,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		URIs:        []*url.URL{{Scheme: "coffer-tls", Opaque: pki.PurposePeer}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, tlsKey.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{leaf, identity}, tlsKey
}

func testRoguePeers(t *testing.T, c *devcluster.Cluster) {
	l := c.Layout
	clusterCA := loadCA(t, l)
	n1, _ := l.Node("node1")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherCA, _, err := pki.NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *pki.CA, name, role string) *x509.Certificate {
		cert, err := ca.Issue(name, role, pub, []string{"127.0.0.1"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	n2, err := os.ReadFile(l.Path("node2/cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	node2, err := pki.ParseCertPEM(n2)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		identity *x509.Certificate
	}{
		{"fail/certificate from another CA", issue(otherCA, "node3", pki.RoleNode)},
		{"fail/cluster certificate claiming node2 with another key", issue(clusterCA, "node2", pki.RoleNode)},
		{"fail/cluster certificate for a non-member", issue(clusterCA, "node9", pki.RoleNode)},
		{"fail/operator certificate on the peer port", issue(clusterCA, "node3", pki.RoleOperator)},
		// node2's real identity certificate (it is public), with a TLS key
		// that node2's HSM key did not endorse
		{"fail/node2's identity with a TLS key node2 did not endorse", node2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain, tlsKey := endorse(t, tc.identity, priv)
			p := rawPeer(t, n1.Peer, clusterCA.Cert, chain, tlsKey)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := p.Prepare(ctx, &peerpb.PrepareRequest{})
			// refused at the TLS or membership layer (an alert, or a closed
			// connection, depending on timing) — and not because node1 is
			// down: it must serve a legitimate client right after
			if err == nil || status.Code(err) == codes.InvalidArgument {
				t.Fatalf("node1 served a rogue peer: %v", err)
			}
			if _, serr := dial(t, c, "node1").Operator.Status(ctx, &operatorpb.StatusRequest{}); serr != nil {
				t.Fatalf("positive control: node1 is not serving (%v), so the refusal proves nothing", serr)
			}
		})
	}
	t.Run("compromised node3", func(t *testing.T) { testCompromisedNode(t, c) })
}

// testCompromisedNode stops node3 and speaks for it with its real HSM
// identity: the worst a member can do on the peer protocol.
func testCompromisedNode(t *testing.T, c *devcluster.Cluster) {
	withCompromisedNode3(t, c, func(p peerpb.PeerClient, _ rogueLog) { roguePeerMessages(t, c, p) })
}

// withCompromisedNode3 stops node3, opens its HSM and serves its peer port
// from this test (accepting whatever node1 and node2 send it), and hands
// fn a peer client that speaks to node1 as node3. node3 restarts after.
// rogueLog puts a command in the replicated log as node3, signed with
// node3's HSM identity key (all a compromised node3 can sign), through
// whichever node leads.
type rogueLog func(cmd ledger.Command) error

func withCompromisedNode3(t *testing.T, c *devcluster.Cluster, fn func(p peerpb.PeerClient, log rogueLog)) {
	l := c.Layout
	c.StopNode("node3")
	defer func() {
		if err := c.StartNode(context.Background(), "node3"); err != nil {
			t.Fatalf("restart node3: %v", err)
		}
	}()
	err := l.WithNode("node3", func(cfg *signer.Config, d signer.Deps) error {
		members := peer.Membership{}
		for _, m := range cfg.Members {
			k := make([]byte, 32)
			copy(k, mustHex(t, m.IdentityKey))
			members[m.ID] = peer.Member{ID: m.ID, Address: m.Peer, IdentityKey: k}
		}
		certPEM, _ := os.ReadFile(cfg.TLS.Cert)
		cert, _ := pki.ParseCertPEM(certPEM)
		// all a compromised node3 can present: TLS keys its own HSM
		// identity endorses
		key, err := tlskey.New(tlskey.Config{Purpose: pki.PurposePeer, Identity: cert},
			tlskey.Deps{Signer: d.Keystore.Identity(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		creds := peer.Credentials{Key: key, CA: loadCA(t, l).Cert}
		client, err := peer.NewClient(creds, members)
		if err != nil {
			return err
		}
		defer client.Close()
		// serve node3's peer port like a compromised node would, accepting
		// node1's messages so that only the rogue messages can fail a session
		srv, err := peer.NewServer(creds, members, sink{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return err
		}
		lis, err := net.Listen("tcp", members["node3"].Address)
		if err != nil {
			return err
		}
		go func() { _ = srv.Serve(lis) }()
		defer srv.Kill()
		p, err := client.Peer("node1")
		if err != nil {
			return err
		}
		rlog := func(cmd ledger.Command) error {
			entry, err := replica.SignEntry(d.Keystore.Identity(), cfg.Cluster, "node3", uint64(time.Now().UnixNano()), cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for ctx.Err() == nil {
				for _, leader := range []string{"node1", "node2"} {
					lp, err := client.Peer(leader)
					if err != nil {
						return err
					}
					if _, err = lp.Forward(ctx, &peerpb.ForwardRequest{Entry: entry}); err == nil {
						return nil
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
			return ctx.Err()
		}
		fn(p, rlog)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sink accepts every peer call and does nothing.
type sink struct{}

func (sink) Prepare(context.Context, string, *peerpb.PrepareRequest) error { return nil }
func (sink) RunSession(context.Context, string, *peerpb.RunRequest) (*peerpb.RunResponse, error) {
	return &peerpb.RunResponse{}, nil
}
func (sink) Deliver(context.Context, string, *peerpb.Envelope) error   { return nil }
func (sink) Abort(context.Context, string, *peerpb.AbortRequest) error { return nil }
func (sink) Forward(context.Context, string, []byte) error             { return nil }
func (sink) RaftInfo(context.Context, string) (uint64, error)          { return 0, nil }
func (sink) Cosign(context.Context, string, *peerpb.CosignRequest) (*peerpb.CosignResponse, error) {
	return &peerpb.CosignResponse{}, nil
}

func spec3(coordinator string) *peerpb.SessionSpec {
	nonce := make([]byte, 32)
	_, _ = rand.Read(nonce)
	attempt := make([]byte, 16)
	_, _ = rand.Read(attempt)
	return &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_SIGN, KeyId: "hot-1", Parties: []string{"node1", "node3"},
		SelftestNonce: nonce, Attempt: attempt, Coordinator: coordinator, DeadlineUnixMs: time.Now().Add(20 * time.Second).UnixMilli()}
}

func roguePeerMessages(t *testing.T, c *devcluster.Cluster, p peerpb.PeerClient) {
	ctx := context.Background()
	party := func(n string) []byte { return ctss.PartyKey("hot-1", 0, n).Bytes() }
	t.Run("fail/prepare naming another coordinator", func(t *testing.T) {
		s := spec3("node1")
		sid, _ := signer.SessionID(s)
		_, err := p.Prepare(ctx, &peerpb.PrepareRequest{SessionId: sid, Spec: s})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/prepare with a session ID that does not match the spec", func(t *testing.T) {
		s := spec3("node3")
		_, err := p.Prepare(ctx, &peerpb.PrepareRequest{SessionId: make([]byte, 32), Spec: s})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/message for an unknown session", func(t *testing.T) {
		_, err := p.Deliver(ctx, &peerpb.Envelope{SessionId: make([]byte, 32), FromParty: party("node3"), ToParties: [][]byte{party("node1")}, Payload: []byte{1}})
		if status.Code(err) != codes.NotFound {
			t.Fatalf("got %v", err)
		}
	})
	bad := []struct {
		name string
		env  func(sid []byte) *peerpb.Envelope
		why  string
	}{
		{"fail/garbage payload", func(sid []byte) *peerpb.Envelope {
			return &peerpb.Envelope{SessionId: sid, FromParty: party("node3"), ToParties: [][]byte{party("node1")}, Payload: []byte("\x0a\xffnot a tss message")}
		}, "malformed"},
		{"fail/oversized payload", func(sid []byte) *peerpb.Envelope {
			return &peerpb.Envelope{SessionId: sid, FromParty: party("node3"), ToParties: [][]byte{party("node1")}, Payload: make([]byte, ctss.MaxPayload+1)}
		}, "oversized"},
		{"fail/message sent as another party", func(sid []byte) *peerpb.Envelope {
			return &peerpb.Envelope{SessionId: sid, FromParty: party("node1"), ToParties: [][]byte{party("node1")}, Payload: []byte{1}}
		}, "does not hold"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			s := spec3("node3")
			sid, _ := signer.SessionID(s)
			if _, err := p.Prepare(ctx, &peerpb.PrepareRequest{SessionId: sid, Spec: s}); err != nil {
				t.Fatalf("prepare: %v", err)
			}
			done := make(chan *peerpb.RunResponse, 1)
			go func() {
				r, err := p.Run(ctx, &peerpb.RunRequest{SessionId: sid})
				if err != nil {
					r = &peerpb.RunResponse{Failure: "rpc: " + err.Error()}
				}
				done <- r
			}()
			time.Sleep(200 * time.Millisecond)
			_, _ = p.Deliver(ctx, tc.env(sid))
			var r *peerpb.RunResponse
			select {
			case r = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("node1 did not abort the session")
			}
			if !strings.Contains(r.Failure, tc.why) || len(r.Culprits) != 1 || r.Culprits[0] != "node3" {
				t.Fatalf("failure %q culprits %v; want %q by node3", r.Failure, r.Culprits, tc.why)
			}
			// only that session: node1 and node2 still sign together
			if _, ok, err := selfTestSign(c, "hot-1", []string{"node1", "node2"}, nil); err != nil || !ok {
				t.Fatalf("node1 stopped serving after a bad message: %v", err)
			}
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sessionID(spec *peerpb.SessionSpec) ([]byte, error) { return signer.SessionID(spec) }
