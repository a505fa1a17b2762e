package signer

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	ctss "github.com/cofferhq/coffer/signer/tss"
)

// TestLazyShareStaysOutOfLogs logs and formats an unsealed lazy share:
// its Xi appears nowhere.
func TestLazyShareStaysOutOfLogs(t *testing.T) {
	xi, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 255))
	sh := &ctss.Share{}
	sh.Data.Xi = xi
	l := &lazyShare{open: func(context.Context) (*ctss.Share, error) { return sh, nil }}
	if _, err := l.get(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		slog.New(h).Info("lazy", "share", l)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", l)
	}
	for _, f := range []string{xi.String(), xi.Text(16)} {
		if strings.Contains(out.String(), f) {
			t.Fatalf("Xi appears in:\n%s", out.String())
		}
	}
}
