package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestApprovalKeyStaysOutOfLogs logs and formats an opened approval key:
// the private key appears nowhere.
func TestApprovalKeyStaysOutOfLogs(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	k := &approvalKey{Signer: priv, desc: "file /tmp/tom.key"}
	var out bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		slog.New(h).Info("key", "k", k, "v", *k)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", k)
		fmt.Fprintf(&out, verb+"\n", *k)
	}
	seed := priv.Seed()
	for _, f := range []string{hex.EncodeToString(seed), base64.StdEncoding.EncodeToString(seed)[:20], fmt.Sprint(seed[:6])[1:15]} {
		if strings.Contains(out.String(), f) {
			t.Fatalf("the key (%s) appears in:\n%s", f, out.String())
		}
	}
}
