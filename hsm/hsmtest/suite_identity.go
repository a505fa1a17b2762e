package hsmtest

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

// publicKey returns the identity public key, failing unless it is Ed25519.
func publicKey(t *testing.T, ks hsm.Keystore) ed25519.PublicKey {
	t.Helper()
	pub, ok := ks.Identity().Public().(ed25519.PublicKey)
	if !ok {
		t.Fatalf("Identity().Public() is %T, want ed25519.PublicKey", ks.Identity().Public())
	}
	if len(pub) != ed25519.PublicKeySize {
		t.Fatalf("public key is %d bytes", len(pub))
	}
	return pub
}

func testIdentity(t *testing.T, ks hsm.Keystore) {
	pub := publicKey(t, ks)
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"ok/empty", nil},
		{"ok/checkpoint", []byte("coffer/node1\n42\nAAAA\n")},
		{"ok/64KiB", randBytes(64 << 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := ks.Identity().Sign(rand.Reader, tc.msg, crypto.Hash(0))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !ed25519.Verify(pub, tc.msg, sig) {
				t.Fatal("signature does not verify with ed25519.Verify")
			}
			other := append(bytes.Clone(tc.msg), 'x')
			if ed25519.Verify(pub, other, sig) {
				t.Fatal("signature verifies over another message")
			}
			again, err := ks.Identity().Sign(nil, tc.msg, &ed25519.Options{})
			if err != nil {
				t.Fatalf("Sign with &ed25519.Options{}: %v", err)
			}
			if !bytes.Equal(again, sig) {
				t.Fatal("Ed25519 signatures of one message differ (must be deterministic)")
			}
		})
	}
	// Mutating the returned public key must not change the signer's.
	pub[0] ^= 0xff
	if bytes.Equal(publicKey(t, ks), pub) {
		t.Fatal("Public() returns the signer's own slice")
	}
}

func testIdentityOptions(t *testing.T, ks hsm.Keystore) {
	for _, tc := range []struct {
		name string
		opts crypto.SignerOpts
	}{
		{"fail/sha256", crypto.SHA256},
		{"fail/ed25519ph", crypto.SHA512},
		{"fail/ed25519ph-options", &ed25519.Options{Hash: crypto.SHA512}},
		{"fail/ed25519ctx", &ed25519.Options{Context: "coffer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := ks.Identity().Sign(rand.Reader, []byte("msg"), tc.opts)
			if err == nil || sig != nil {
				t.Fatalf("Sign = %x, %v; want an error", sig, err)
			}
		})
	}
}

func testIdentitiesDiffer(t *testing.T, a, b hsm.Keystore) {
	if bytes.Equal(publicKey(t, a), publicKey(t, b)) {
		t.Fatal("two keystores share an identity key")
	}
	msg := []byte("msg")
	sig, err := a.Identity().Sign(nil, msg, crypto.Hash(0))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if ed25519.Verify(publicKey(t, b), msg, sig) {
		t.Fatal("a signature of one keystore verifies under another's key")
	}
}
