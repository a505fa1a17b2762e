package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer"
	"github.com/cofferhq/coffer/signer/tlskey"
)

// lyingTransfers answers the client API as a compromised node would: every
// Get is what lie makes of the honest answer, and it counts the Decide
// calls that reach it (an officer's client must make none).
type lyingTransfers struct {
	transferpb.UnimplementedTransfersServer
	honest  transferpb.TransfersClient
	lie     atomic.Pointer[func(*transferpb.Transfer) *transferpb.Transfer]
	decides atomic.Int32
}

func (s *lyingTransfers) Get(ctx context.Context, req *transferpb.GetRequest) (*transferpb.Transfer, error) {
	t, err := s.honest.Get(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*s.lie.Load())(t), nil
}

func (s *lyingTransfers) Decide(context.Context, *transferpb.DecideRequest) (*transferpb.Transfer, error) {
	s.decides.Add(1)
	return nil, errors.New("the lying node takes no decisions")
}

// withLyingAPINode3 stops node3 and serves its client API address with
// what a compromised node3 can present, a TLS key its own HSM identity
// endorses, answering Get through honest and s.lie. node3 is restarted
// after fn.
func withLyingAPINode3(t *testing.T, c *devcluster.Cluster, honest transferpb.TransfersClient, fn func(s *lyingTransfers)) {
	t.Helper()
	l := c.Layout
	c.StopNode("node3")
	defer func() {
		if err := c.StartNode(context.Background(), "node3"); err != nil {
			t.Fatalf("restart node3: %v", err)
		}
	}()
	n, err := l.Node("node3")
	if err != nil {
		t.Fatal(err)
	}
	err = l.WithNode("node3", func(cfg *signer.Config, d signer.Deps) error {
		certPEM, err := os.ReadFile(cfg.TLS.Cert)
		if err != nil {
			return err
		}
		cert, err := pki.ParseCertPEM(certPEM)
		if err != nil {
			return err
		}
		key, err := tlskey.New(tlskey.Config{Purpose: pki.PurposeAPI, Identity: cert},
			tlskey.Deps{Signer: d.Keystore.Identity(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13,
			GetCertificate: key.GetCertificate, ClientAuth: tls.RequireAnyClientCert})))
		s := &lyingTransfers{honest: honest}
		same := func(t *transferpb.Transfer) *transferpb.Transfer { return t }
		s.lie.Store(&same)
		transferpb.RegisterTransfersServer(srv, s)
		lis, err := net.Listen("tcp", n.API)
		if err != nil {
			return err
		}
		go func() { _ = srv.Serve(lis) }()
		defer srv.Stop()
		fn(s)
		return nil
	})
	if err != nil {
		t.Fatalf("serve a lying node3: %v", err)
	}
}
