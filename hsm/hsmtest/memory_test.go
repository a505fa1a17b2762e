package hsmtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

func newMemory(t *testing.T) hsm.Keystore {
	m := NewMemory()
	t.Cleanup(func() {
		if err := m.Close(); err != nil && !errors.Is(err, hsm.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func TestMemoryConformance(t *testing.T) { Run(t, newMemory) }

func TestNewMemoryWithKeys(t *testing.T) {
	seal := bytes.Repeat([]byte{1}, 32)
	_, id, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		seal []byte
		id   ed25519.PrivateKey
		ok   bool
	}{
		{"ok/keys", seal, id, true},
		{"fail/short-seal-key", seal[:16], id, false},
		{"fail/short-identity", seal, id[:32], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMemoryWithKeys(tc.seal, tc.id)
			if !tc.ok {
				if err == nil {
					t.Fatal("NewMemoryWithKeys succeeded")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewMemoryWithKeys: %v", err)
			}
			// A "restarted" node with the same keys opens its blobs.
			b, err := m.Seal(context.Background(), []byte("a"), []byte("p"))
			if err != nil {
				t.Fatal(err)
			}
			m2, _ := NewMemoryWithKeys(tc.seal, tc.id)
			if pt, err := m2.Open(context.Background(), []byte("a"), b); err != nil || string(pt) != "p" {
				t.Fatalf("reopened keystore: Open = %q, %v", pt, err)
			}
			if !m2.Identity().Public().(ed25519.PublicKey).Equal(id.Public()) {
				t.Fatal("identity changed")
			}
		})
	}
}
