package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/signer"
)

// testTLS: TLS without the HSM, on the real cluster (issue item 8).
func testTLS(t *testing.T, c *devcluster.Cluster) {
	t.Run("ok/clients without a certificate cost node3's SoftHSM nothing", func(t *testing.T) { testCertlessCostsNoHSM(t, c) })
	t.Run("fail/a client revoked in node1's config is refused after SIGHUP", func(t *testing.T) { testRevokeBySIGHUP(t, c) })
}

// testCertlessCostsNoHSM runs node3 in this process on its own SoftHSM
// token, the keystore wrapped to count every operation, and has clients
// without a certificate handshake with its three listeners: its HSM does
// nothing for them (before this, each such handshake cost one identity
// signature on the token).
func testCertlessCostsNoHSM(t *testing.T, c *devcluster.Cluster) {
	l := c.Layout
	c.StopNode("node3")
	defer func() {
		if err := c.StartNode(context.Background(), "node3"); err != nil {
			t.Fatalf("restart node3: %v", err)
		}
	}()
	n3, _ := l.Node("node3")
	err := l.WithNode("node3", func(cfg *signer.Config, d signer.Deps) error {
		counting := hsmtest.NewCounting(d.Keystore)
		d.Keystore, d.Log = counting, slog.New(slog.NewTextHandler(io.Discard, nil))
		n, err := signer.New(cfg, d)
		if err != nil {
			return err
		}
		defer n.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		defer func() { cancel(); <-done }()
		waitServing(t, c, "node3")
		if counting.Signs() < 3 {
			t.Fatalf("the counter saw %d identity signatures at start-up; the three endorsements at least were expected", counting.Signs())
		}
		const per = 30
		addrs := []string{n3.Peer, n3.API, n3.Raft}
		// the node also works for the cluster meanwhile (a peer may ask it
		// to cosign a checkpoint): a window is counted only once the HSM
		// was quiet for 2 s, and a second window is taken if the first saw
		// an operation. A handshake that cost one would show in both.
		var costs []int64
		for attempt := 0; attempt < 2; attempt++ {
			waitQuiet(counting, 2*time.Second, 30*time.Second)
			before := counting.Ops()
			for _, a := range addrs {
				for range per {
					certlessHandshake(t, a)
				}
			}
			costs = append(costs, counting.Ops()-before)
			if costs[len(costs)-1] == 0 {
				break
			}
		}
		t.Logf("HSM operations during %d handshakes without a client certificate (peer, api, raft): %v; identity signatures over a TLS handshake in all: %d",
			len(addrs)*per, costs, counting.HandshakeSigns())
		if counting.HandshakeSigns() != 0 {
			t.Fatalf("node3's HSM signed %d TLS handshakes", counting.HandshakeSigns())
		}
		if costs[len(costs)-1] != 0 {
			t.Fatalf("%d handshakes without a client certificate cost node3's HSM %v operations, want 0", len(addrs)*per, costs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waitServing(t *testing.T, c *devcluster.Cluster, node string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cl, err := c.Layout.Dial(node)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = cl.Operator.Status(ctx, &operatorpb.StatusRequest{})
			cancel()
			_ = cl.Close()
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not serve: %v", node, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitQuiet returns once c counted no operation for quiet (or after max).
func waitQuiet(c *hsmtest.Counting, quiet, max time.Duration) {
	end := time.Now().Add(max)
	last, since := c.Ops(), time.Now()
	for time.Since(since) < quiet && time.Now().Before(end) {
		time.Sleep(100 * time.Millisecond)
		if now := c.Ops(); now != last {
			last, since = now, time.Now()
		}
	}
}

// certlessHandshake completes a TLS 1.3 handshake on the client's side
// without a certificate (the server has signed its CertificateVerify by
// then) and waits for the server's refusal.
func certlessHandshake(t *testing.T, addr string) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Read(make([]byte, 1))
}

// testRevokeBySIGHUP revokes an auditor's certificate in node1's config
// and sends node1 SIGHUP: the auditor's next call, on the connection it
// already had and on a new one, is refused; the operator is not; the list
// removed, the auditor is served again.
func testRevokeBySIGHUP(t *testing.T, c *devcluster.Cluster) {
	l := c.Layout
	ca := loadCA(t, l)
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	cert, err := ca.Issue("auditor-tls", pki.RoleAuditor, pub, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.KeyPEM(priv)
	cc := devcluster.ClientCert{Name: "auditor-tls", Cert: filepath.Join(dir, "a.pem"), Key: filepath.Join(dir, "a.key")}
	if err := os.WriteFile(cc.Cert, pki.CertPEM(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cc.Key, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	auditor, err := l.DialAs("node1", cc)
	if err != nil {
		t.Fatal(err)
	}
	defer auditor.Close()
	status1 := func(cl *devcluster.Client) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := cl.Operator.Status(ctx, &operatorpb.StatusRequest{})
		return err
	}
	if err := status1(auditor); err != nil {
		t.Fatalf("ok/before: %v", err)
	}
	n1, _ := l.Node("node1")
	path := l.Path(n1.Config)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hup := func(doc []byte) {
		t.Helper()
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(c.PID("node1"), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	defer hup(orig)
	hup(withRevoked(t, orig, pki.SerialHex(cert)))
	// the reload is asynchronous: wait for the refusal, on the open
	// connection
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := status1(auditor)
		if status.Code(err) == codes.Unauthenticated && strings.Contains(err.Error(), "revoked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fail/the revoked auditor is still served after SIGHUP: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fresh, err := l.DialAs("node1", cc)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := status1(fresh); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("fail/the revoked auditor on a new connection: %v", err)
	}
	if err := status1(dial(t, c, "node1")); err != nil {
		t.Fatalf("ok/the operator after the revocation: %v", err)
	}
	// a config that does not validate keeps the list in force
	hup([]byte("node: [broken\n"))
	time.Sleep(500 * time.Millisecond)
	if err := status1(auditor); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("fail/a broken config dropped the revocations: %v", err)
	}
	hup(orig)
	deadline = time.Now().Add(10 * time.Second)
	for status1(auditor) != nil {
		if time.Now().After(deadline) {
			t.Fatal("ok/the auditor is not served again once the list is emptied")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withRevoked adds serial to tls.revoked.serials of a node config.
func withRevoked(t *testing.T, doc []byte, serial string) []byte {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	tlsSec, ok := m["tls"].(map[string]any)
	if !ok {
		t.Fatalf("no tls section in the node config:\n%s", doc)
	}
	tlsSec["revoked"] = map[string]any{"serials": []string{serial}}
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
