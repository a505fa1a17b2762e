package pkcs11

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// hsmCert makes a self-signed certificate for name whose key is the HSM
// identity signer: x509 signs the certificate with it, and the
// tls.Certificate's PrivateKey is the signer itself.
func hsmCert(t *testing.T, signer crypto.Signer, name string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatalf("create certificate with the HSM key: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer, Leaf: leaf}, pool
}

// TestIdentityTLS13 runs a mutual TLS 1.3 handshake over net.Pipe where
// both ends authenticate with their node's HSM identity key.
func TestIdentityTLS13(t *testing.T) {
	server, client := openTest(t, testConfig(tokNode1)), openTest(t, testConfig(tokNode2))
	serverCert, serverPool := hsmCert(t, server.Identity(), tokNode1)
	clientCert, clientPool := hsmCert(t, client.Identity(), tokNode2)

	sConn, cConn := net.Pipe()
	defer sConn.Close()
	defer cConn.Close()
	deadline := time.Now().Add(10 * time.Second)
	sConn.SetDeadline(deadline)
	cConn.SetDeadline(deadline)
	srv := tls.Server(sConn, &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{serverCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool,
	})
	cli := tls.Client(cConn, &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{clientCert},
		RootCAs: serverPool, ServerName: tokNode1,
	})
	msg := []byte("hello from node2")
	got := make(chan []byte, 1)
	srvErr := make(chan error, 1)
	go func() {
		if err := srv.Handshake(); err != nil {
			srvErr <- err
			return
		}
		b := make([]byte, len(msg))
		_, err := io.ReadFull(srv, b)
		got <- b
		srvErr <- err
	}()
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v (server: %v)", err, <-srvErr)
	}
	if _, err := cli.Write(msg); err != nil {
		t.Fatalf("client write: %v", err)
	}
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatalf("server read %q", b)
	}
	cs, ss := cli.ConnectionState(), srv.ConnectionState()
	if cs.Version != tls.VersionTLS13 {
		t.Fatalf("negotiated %s, want TLS 1.3", tls.VersionName(cs.Version))
	}
	if pub := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey); !pub.Equal(server.PublicKey()) {
		t.Fatal("client saw another server key")
	}
	if pub := ss.PeerCertificates[0].PublicKey.(ed25519.PublicKey); !pub.Equal(client.PublicKey()) {
		t.Fatal("server saw another client key")
	}
}
