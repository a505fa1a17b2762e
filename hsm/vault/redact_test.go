package vault

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestTokenStaysOutOfLogs logs and formats a client holding a token, and
// a keystore holding the client: the token never appears.
func TestTokenStaysOutOfLogs(t *testing.T) {
	const token = "hvs.not-a-real-token-1618033988"
	conn := Connection{Address: "https://vault.example:8200"}
	ac, err := newAPIClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	ac.SetToken(token)
	c := &Client{conn: conn, api: ac, auth: "token file /run/token"}
	k := &Keystore{cfg: Config{Connection: conn, Mount: "transit", SealKey: "coffer-seal"}, c: c}
	for _, v := range []struct {
		name string
		v    any
	}{{"client", c}, {"keystore", k}, {"secret", secret{v: token}}, {"holder", struct{ C *Client }{c}}} {
		t.Run("ok/"+v.name, func(t *testing.T) {
			var out bytes.Buffer
			for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
				slog.New(h).Info("value", "v", v.v)
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
				fmt.Fprintf(&out, verb+"\n", v.v)
			}
			if strings.Contains(out.String(), token) {
				t.Fatalf("the token appears in:\n%s", out.String())
			}
		})
	}
}
