package hsmtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// Counting sees every operation, and a handshake signed with the identity
// key is counted as one (the control that makes "zero handshake
// signatures" in other tests mean something).
func TestCounting(t *testing.T) {
	c := NewCounting(NewMemory())
	ctx := context.Background()
	blob, err := c.Seal(ctx, []byte("a"), []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(ctx, []byte("a"), blob); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "n"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, c.Identity().Public(), c.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if c.Signs() != 1 || c.HandshakeSigns() != 0 || c.Ops() != 3 {
		t.Fatalf("signs %d, handshakes %d, ops %d after seal, open, one certificate", c.Signs(), c.HandshakeSigns(), c.Ops())
	}
	s, cl := net.Pipe()
	defer s.Close()
	defer cl.Close()
	go func() {
		_ = tls.Server(s, &tls.Config{MinVersion: tls.VersionTLS13,
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: c.Identity()}}}).Handshake()
	}()
	if err := tls.Client(cl, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}).Handshake(); err != nil {
		t.Fatal(err)
	}
	if c.HandshakeSigns() != 1 || c.Signs() != 2 {
		t.Fatalf("a handshake with the identity key: %d handshake signatures of %d", c.HandshakeSigns(), c.Signs())
	}
}
