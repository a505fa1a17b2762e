package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestCheckpointVerifiesWithPublicKeyAlone: a checkpoint signed in SoftHSM
// opens with note.Open given nothing but the node's public key.
func TestCheckpointVerifiesWithPublicKeyAlone(t *testing.T) {
	ks := softHSM(t)
	n := newTestNode(t, "node1", ks)
	n.append(t, oneOfEach(1)...)
	latest, err := n.log.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Only the public key, as read from the HSM, and x/mod's own encoder.
	pub := ks.PublicKey()
	vkey, err := note.NewEd25519VerifierKey("coffer/t/node1", pub)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := note.Open(latest.Note, note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, latest.Note)
	}
	lines := strings.Split(opened.Text, "\n")
	if len(lines) != 4 || lines[0] != "coffer/t/node1" || lines[1] != fmt.Sprint(len(oneOfEach(1))) || lines[3] != "" {
		t.Fatalf("checkpoint text is not origin/size/root:\n%s", opened.Text)
	}
	if root, err := base64.StdEncoding.DecodeString(lines[2]); err != nil || len(root) != 32 {
		t.Fatalf("root line %q: %v", lines[2], err)
	}
	if n.log.VerifierKey() != vkey {
		t.Fatalf("VerifierKey = %s, x/mod makes %s", n.log.VerifierKey(), vkey)
	}

	// Another key with the same name does not open it.
	otherPub, _, _ := ed25519.GenerateKey(nil)
	otherKey, _ := note.NewEd25519VerifierKey("coffer/t/node1", otherPub)
	other, _ := note.NewVerifier(otherKey)
	if _, err := note.Open(latest.Note, note.VerifierList(other)); err == nil {
		t.Fatal("note.Open accepted the checkpoint with another key")
	}
}

func TestNoteSigner(t *testing.T) {
	ks := softHSM(t)
	s, err := NewNoteSigner("coffer/t/n", ks.Identity())
	if err != nil {
		t.Fatal(err)
	}
	// The key hash of x/mod's encoder: name+hash+key.
	parts := strings.SplitN(s.VerifierKey(), "+", 3)
	if len(parts) != 3 || parts[1] != fmt.Sprintf("%08x", s.KeyHash()) {
		t.Fatalf("KeyHash %08x does not match the verifier key %s", s.KeyHash(), s.VerifierKey())
	}
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(s.VerifierKey())
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	tests := []struct {
		name string
		key  any
	}{
		{"fail/nil", nil},
		{"fail/not-ed25519", notEd25519{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.key == nil {
				_, err = NewNoteSigner("x", nil)
			} else {
				_, err = NewNoteSigner("x", tc.key.(notEd25519))
			}
			if err == nil {
				t.Fatal("NewNoteSigner accepted it")
			}
		})
	}
}
