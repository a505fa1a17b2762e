package pkcs11

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestPINStaysOutOfLogs logs and formats everything of this package that
// holds the PIN (the anchor token keeps it for relogins) or the key of its
// fingerprints: neither appears, with slog's JSON and text handlers or
// with any fmt verb.
func TestPINStaysOutOfLogs(t *testing.T) {
	k := openTest(t, testConfig(tokNode1))
	st := k.cur.Load()
	pin := st.tok.pin.reveal()
	if pin != env.pin {
		t.Fatal("the anchor token does not hold the PIN it logged in with")
	}
	forbidden := []string{pin, hex.EncodeToString(k.mod.macKey[:]), fmt.Sprint(k.mod.macKey[:])[1:20]}
	for _, l := range k.mod.logins {
		forbidden = append(forbidden, hex.EncodeToString(l.pinMAC))
	}
	for _, v := range []struct {
		name string
		v    any
	}{{"keystore", k}, {"token", st.tok}, {"module", k.mod}, {"state", st}, {"secret", st.tok.pin}, {"identity", k.Identity()}} {
		t.Run("ok/"+v.name, func(t *testing.T) {
			var out bytes.Buffer
			for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
				log := slog.New(h)
				log.Info("value", "v", v.v)
				log.With("v", v.v).Info("with")
				log.Info("group", slog.Group("g", "v", v.v))
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
				fmt.Fprintf(&out, verb+"\n", v.v)
			}
			for _, f := range forbidden {
				if strings.Contains(out.String(), f) {
					t.Fatalf("%q appears in:\n%s", f, out.String())
				}
			}
		})
	}
}
