package pki

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestCAKeyStaysOutOfLogs logs and formats a CA: its private key does not
// appear (hex, base64, or as fmt prints bytes).
func TestCAKeyStaysOutOfLogs(t *testing.T) {
	ca, priv, err := NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		slog.New(h).Info("ca", "ca", ca, "ca_value", *ca)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", ca)
	}
	seed := priv.Seed()
	for _, f := range []string{hex.EncodeToString(seed), base64.StdEncoding.EncodeToString(seed)[:20], fmt.Sprint(seed[:6])[1:15]} {
		if strings.Contains(out.String(), f) {
			t.Fatalf("the CA key (%s) appears in:\n%s", f, out.String())
		}
	}
}
