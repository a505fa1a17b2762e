package tlskey

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pki"
)

// hsm counts the identity key's signatures and can be made to fail.
type hsm struct {
	ed25519.PrivateKey
	signs atomic.Int64
	fail  atomic.Bool
}

func (h *hsm) Sign(r io.Reader, msg []byte, o crypto.SignerOpts) ([]byte, error) {
	if h.fail.Load() {
		return nil, errors.New("token removed")
	}
	h.signs.Add(1)
	return h.PrivateKey.Sign(r, msg, o)
}

func setup(t *testing.T) (*hsm, *x509.Certificate, *x509.CertPool) {
	t.Helper()
	ca, _, err := pki.NewCA("c", 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, err := ca.Issue("node1", pki.RoleNode, pub, []string{"127.0.0.1"}, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	return &hsm{PrivateKey: priv}, id, roots
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// One HSM signature makes a key: a software key, endorsed, that peers
// accept; serving it any number of times signs nothing more.
func TestKeyIsEndorsedOnceAndServedWithoutTheHSM(t *testing.T) {
	h, id, roots := setup(t)
	k, err := New(Config{Purpose: pki.PurposePeer, Identity: id}, Deps{Signer: h, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.signs.Load(); got != 1 {
		t.Fatalf("making the key took %d HSM signatures, want 1", got)
	}
	c := k.Certificate()
	if pub, ok := c.Leaf.PublicKey.(ed25519.PublicKey); ok && pub.Equal(h.Public()) {
		t.Fatal("the TLS key is the HSM identity key")
	}
	if _, ok := c.PrivateKey.(*hsm); ok {
		t.Fatal("the handshake signer is the HSM")
	}
	chain := []*x509.Certificate{c.Leaf, id}
	if got, err := pki.VerifyEndorsed(chain, roots, pki.PurposePeer, x509.ExtKeyUsageClientAuth, time.Now()); err != nil || got != id {
		t.Fatalf("peers refuse the endorsed key: %v", err)
	}
	if len(c.Certificate) != 2 || string(c.Certificate[1]) != string(id.Raw) {
		t.Fatal("the chain presented is not [TLS certificate, identity certificate]")
	}
	for range 1000 {
		a, _ := k.GetCertificate(nil)
		b, _ := k.GetClientCertificate(nil)
		if a != c || b != c {
			t.Fatal("served another certificate")
		}
	}
	if got := h.signs.Load(); got != 1 {
		t.Fatalf("serving the key took %d more HSM signatures", got-1)
	}
	if d := c.Leaf.NotAfter.Sub(time.Now()); d > DefaultLifetime || d < DefaultLifetime-time.Minute {
		t.Fatalf("lifetime %s, want %s", d, DefaultLifetime)
	}
}

// Run rotates at half the lifetime: a new key, one HSM signature.
func TestRunRotatesAtHalfLife(t *testing.T) {
	h, id, _ := setup(t)
	k, err := New(Config{Purpose: pki.PurposeAPI, Identity: id, Lifetime: 2 * time.Second}, Deps{Signer: h, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	first := k.Certificate()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(400 * time.Millisecond)
	if k.Certificate() != first {
		t.Fatal("rotated before half-life")
	}
	deadline := time.Now().Add(3 * time.Second)
	for k.Certificate() == first {
		if time.Now().After(deadline) {
			t.Fatal("not rotated by the end of the lifetime")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h.signs.Load() < 2 {
		t.Fatal("rotated without an endorsement")
	}
	if k.Certificate().PrivateKey == first.PrivateKey {
		t.Fatal("rotation kept the private key")
	}
}

// A failed rotation keeps the current certificate.
func TestFailedRotationKeepsTheCurrentKey(t *testing.T) {
	h, id, _ := setup(t)
	k, err := New(Config{Purpose: pki.PurposeRaft, Identity: id}, Deps{Signer: h, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	cur := k.Certificate()
	h.fail.Store(true)
	if err := k.Rotate(); err == nil {
		t.Fatal("rotation without the HSM succeeded")
	}
	if k.Certificate() != cur {
		t.Fatal("a failed rotation replaced the certificate")
	}
}

func TestNewRefuses(t *testing.T) {
	h, id, _ := setup(t)
	for name, tc := range map[string]struct {
		cfg Config
		d   Deps
	}{
		"fail/no identity":       {Config{Purpose: pki.PurposePeer}, Deps{Signer: h, Log: quiet()}},
		"fail/no signer":         {Config{Purpose: pki.PurposePeer, Identity: id}, Deps{Log: quiet()}},
		"fail/no logger":         {Config{Purpose: pki.PurposePeer, Identity: id}, Deps{Signer: h}},
		"fail/lifetime too long": {Config{Purpose: pki.PurposePeer, Identity: id, Lifetime: pki.MaxEndorsement}, Deps{Signer: h, Log: quiet()}},
		"fail/unknown purpose":   {Config{Purpose: "ssh", Identity: id}, Deps{Signer: h, Log: quiet()}},
	} {
		if _, err := New(tc.cfg, tc.d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	h.fail.Store(true)
	if _, err := New(Config{Purpose: pki.PurposePeer, Identity: id}, Deps{Signer: h, Log: quiet()}); err == nil {
		t.Error("fail/HSM down at start: accepted")
	}
}
