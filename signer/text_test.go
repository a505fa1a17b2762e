package signer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"line\nbreak\ttab", "line?break?tab"},
		{"bad \xff utf8", "bad ? utf8"},
		{"ok ü", "ok ü"},
	} {
		if got := safeText(c.in, 64); got != c.want {
			t.Errorf("safeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := safeText(strings.Repeat("é", 5000), maxPeerText)
	if len(long) > maxPeerText || !utf8.ValidString(long) || !strings.HasSuffix(long, "…") {
		t.Fatalf("a 10,000-byte text became %d bytes, valid %v: %q…", len(long), utf8.ValidString(long), long[:20])
	}
	exact := strings.Repeat("x", maxPeerText)
	if got := safeText(exact, maxPeerText); got != exact {
		t.Fatalf("a text of exactly the bound was cut: %d bytes", len(got))
	}
}
