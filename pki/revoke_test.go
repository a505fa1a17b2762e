package pki

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRevocations(t *testing.T) {
	ca, _, _ := NewCA("c", time.Hour)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	a, _ := ca.Issue("alice", RoleOfficer, pub, nil, time.Hour)
	a2, _ := ca.Issue("alice", RoleOfficer, pub, nil, time.Hour) // same key, new serial
	pubB, _, _ := ed25519.GenerateKey(rand.Reader)
	b, _ := ca.Issue("bob", RoleOfficer, pubB, nil, time.Hour)
	spki := SPKIHash(a)

	bySerial, err := NewRevocations([]string{strings.ToUpper(SerialHex(a))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// colons, as openssl -text prints serials
	hexSerial := SerialHex(a)
	var withColons []string
	for i := 0; i < len(hexSerial); i += 2 {
		withColons = append(withColons, hexSerial[i:i+2])
	}
	byColons, err := NewRevocations([]string{strings.Join(withColons, ":")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byKey, err := NewRevocations(nil, []string{hex.EncodeToString(spki[:])})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		err     error
		revoked bool
	}{
		{"fail/serial listed", bySerial.Check(a), true},
		{"fail/serial listed with colons", byColons.Check(a), true},
		{"ok/same key, other serial, serial list", bySerial.Check(a2), false},
		{"ok/other certificate", bySerial.Check(b), false},
		{"fail/key listed: first certificate", byKey.Check(a), true},
		{"fail/key listed: every certificate of the key", byKey.Check(a2), true},
		{"ok/key listed: other key", byKey.Check(b), false},
		{"ok/nil list", (*Revocations)(nil).Check(a), false},
	} {
		if tc.revoked != (tc.err != nil) || (tc.err != nil && !errors.Is(tc.err, ErrRevoked)) {
			t.Errorf("%s: got %v", tc.name, tc.err)
		}
	}
	if bySerial.Len() != 1 || byKey.Len() != 1 {
		t.Error("Len")
	}
}

func TestNewRevocationsRefuses(t *testing.T) {
	_, err := NewRevocations([]string{"zz", "", strings.Repeat("ab", 21), "0a", "0A"}, []string{"abcd", strings.Repeat("00", 32), strings.Repeat("00", 32)})
	for _, want := range []string{"serials[0]", "serials[1]", "serials[2]", "serials[4]: \"0A\" is listed twice", "spki_sha256[0]", "spki_sha256[2]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fail/%s not reported: %v", want, err)
		}
	}
}
