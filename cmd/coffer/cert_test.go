package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pki"
)

// What `coffer cert show` prints is what a node's tls.revoked accepts and
// what revokes that certificate.
func TestCertShowPrintsWhatRevokes(t *testing.T) {
	ca, _, err := pki.NewCA("c", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	cert, err := ca.Issue("alice", pki.RoleOfficer, pub, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "alice.pem")
	if err := os.WriteFile(file, pki.CertPEM(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newCertCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"show", file})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		for _, l := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == name {
				return f[1]
			}
		}
		t.Fatalf("no %s in:\n%s", name, out.String())
		return ""
	}
	serial, spki := field("serial"), field("spki_sha256")
	if field("role") != pki.RoleOfficer || field("holder") != "alice" {
		t.Fatalf("holder or role wrong:\n%s", out.String())
	}
	for _, r := range []struct{ serials, spki []string }{{[]string{serial}, nil}, {nil, []string{spki}}} {
		list, err := pki.NewRevocations(r.serials, r.spki)
		if err != nil {
			t.Fatalf("tls.revoked refuses what cert show printed: %v", err)
		}
		if list.Check(cert) == nil {
			t.Fatalf("%v does not revoke the certificate", r)
		}
	}
	h := pki.SPKIHash(cert)
	if spki != hex.EncodeToString(h[:]) {
		t.Fatal("spki_sha256 is not the SHA-256 of the SubjectPublicKeyInfo")
	}
}
