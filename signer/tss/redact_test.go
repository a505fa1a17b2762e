package tss

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/bnb-chain/tss-lib/v3/crypto"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// TestSecretsStayOutOfLogs logs a share and pre-parameters, bare, by
// pointer and inside configs, with slog's JSON and text handlers and with
// every fmt verb: no secret integer appears, in decimal or in hex. The
// sealed encodings still carry them.
func TestSecretsStayOutOfLogs(t *testing.T) {
	pp := fixtures(t)[0]
	xi, err := rand.Int(rand.Reader, tsslib.S256().Params().N)
	if err != nil {
		t.Fatal(err)
	}
	share := &Share{}
	share.Data.LocalPreParams = pp.LocalPreParams
	share.Data.Xi = xi
	share.Data.ECDSAPub = crypto.ScalarBaseMult(tsslib.S256(), xi)

	secrets := map[string]*big.Int{"Xi": xi, "P": pp.P, "Q": pp.Q, "PaillierSK.LambdaN": pp.PaillierSK.LambdaN}
	leaks := func(t *testing.T, what, out string) {
		t.Helper()
		for name, v := range secrets {
			for _, enc := range []string{v.String(), v.Text(16), strings.ToUpper(v.Text(16))} {
				if strings.Contains(out, enc) {
					t.Errorf("%s prints %s: %.200s", what, name, out)
				}
			}
		}
	}
	values := []struct {
		name string
		v    any
	}{
		{"*Share", share},
		{"Share", *share},
		{"*PreParams", pp},
		{"PreParams", *pp},
		{"SignConfig", SignConfig{KeyID: "k", Share: share}},
		{"*ReshareConfig", &ReshareConfig{KeyID: "k", Share: share, PreParams: pp}},
		{"KeygenConfig", KeygenConfig{KeyID: "k", PreParams: pp}},
		{"[]*Share", []*Share{share}},
		{"map", map[string]any{"share": *share, "pp": *pp}},
	}
	for _, tc := range values {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			for _, h := range []struct {
				name string
				new  func(*bytes.Buffer) slog.Handler
			}{
				{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
				{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
			} {
				var buf bytes.Buffer
				log := slog.New(h.new(&buf))
				log.Info("secret", "v", tc.v)
				log.Info("grouped", slog.Group("g", slog.Any("v", tc.v)))
				log.With("v", tc.v).Info("with")
				leaks(t, "slog "+h.name+" handler", buf.String())
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"} {
				leaks(t, "fmt "+verb, fmt.Sprintf(verb, tc.v))
			}
			b, _ := json.Marshal(tc.v)
			leaks(t, "json.Marshal", string(b))
			leaks(t, "an error wrapping it", fmt.Errorf("unseal %v: %w", tc.v, ErrBadShare).Error())
		})
	}
	t.Run("ok/nil-share", func(t *testing.T) {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("nil", "share", (*Share)(nil))
		if got := fmt.Sprint((*Share)(nil)); got != "<nil>" {
			t.Errorf("fmt of a nil share = %q", got)
		}
	})
	t.Run("ok/sealed-encodings-keep-the-secrets", func(t *testing.T) {
		b, err := MarshalShare(share)
		if err != nil || !bytes.Contains(b, []byte(xi.String())) {
			t.Fatalf("MarshalShare lost Xi: %v", err)
		}
		b, err = MarshalPreParams(pp)
		if err != nil || !bytes.Contains(b, []byte(pp.P.String())) {
			t.Fatalf("MarshalPreParams lost P: %v", err)
		}
		back, err := UnmarshalPreParams(b)
		if err != nil || back.P.Cmp(pp.P) != 0 || back.PaillierSK.LambdaN.Cmp(pp.PaillierSK.LambdaN) != 0 {
			t.Fatalf("UnmarshalPreParams: %v", err)
		}
	})
}
