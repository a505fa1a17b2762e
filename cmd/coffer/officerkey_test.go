package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
)

func TestOfficerKeyFromFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, key any, mode os.FileMode) string {
		b, err := pki.KeyPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edFile, p256File := write("tom.key", ed, 0o600), write("p256.key", p256, 0o600)
	loose, p384File := write("loose.key", ed, 0o644), write("p384.key", p384, 0o600)
	garbage := filepath.Join(dir, "garbage.key")
	_ = os.WriteFile(garbage, []byte("not a key"), 0o600)
	for _, tc := range []struct {
		name     string
		flags    officerKeyFlags
		def      string
		want     string // error substring; "" for success
		warnWant string
	}{
		{name: "ok/default file", def: edFile},
		{name: "ok/--key overrides the default", flags: officerKeyFlags{file: p256File}, def: edFile},
		{name: "ok/loose permissions warn", flags: officerKeyFlags{file: loose}, warnWant: "readable by group or others"},
		{name: "fail/P-384 is not an officer key", flags: officerKeyFlags{file: p384File}, want: "p384.key"},
		{name: "fail/not PEM", flags: officerKeyFlags{file: garbage}, want: "want a PKCS#8 PEM private key"},
		{name: "fail/missing file", flags: officerKeyFlags{file: filepath.Join(dir, "nope.key")}, want: "nope.key"},
		{name: "fail/file and token", flags: officerKeyFlags{file: edFile, module: "/m.so"}, want: "exclude each other"},
		{name: "fail/incomplete token flags", flags: officerKeyFlags{token: "officer"}, want: "module: required"},
		{name: "fail/PIN variable is a value", flags: officerKeyFlags{module: "/m.so", token: "t", label: "k", pinEnv: "1234"}, want: "not an environment variable name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warn bytes.Buffer
			k, err := tc.flags.open(tc.def, &warn)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("open = %v, want an error mentioning %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer k.close()
			if !strings.Contains(warn.String(), tc.warnWant) {
				t.Fatalf("warnings %q lack %q", warn.String(), tc.warnWant)
			}
			d := policy.Hash{1, 2, 3}
			sig, err := policy.SignApproval(rand.Reader, k, d, policy.VerdictApprove, signedAt)
			if err != nil || !k.pub.Verify(policy.ApprovalMessage(d, policy.VerdictApprove, signedAt), sig) {
				t.Fatalf("approval does not verify: %v", err)
			}
		})
	}
}

// signedAt is the signing time the approvals in these tests carry.
var signedAt = time.UnixMilli(1_767_225_600_000)
