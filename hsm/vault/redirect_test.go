package vault

import (
	"context"
	"crypto"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
)

// recorder is a server where a redirect points: it keeps every request it
// receives, to show that neither a token nor a share reached it.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // method, path, token header and body of each request
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.Path+" token="+req.Header.Get("X-Vault-Token")+" body="+string(b))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"ciphertext":"vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","ttl":0}}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// fakeConfig is a node config on a fake transit server.
func fakeConfig(t *testing.T, f *vaulttest.Fake) Config {
	env.secrets = append(env.secrets, f.Token)
	return Config{Connection: Connection{Address: f.URL, CAFile: f.CAFile, Auth: Auth{TokenFile: writeFile(t, "fake.token", f.Token)}},
		SealKey: "fake-seal", IdentityKey: "fake-node"}.WithDefaults()
}

func startFake(t *testing.T, o vaulttest.FakeOptions) *vaulttest.Fake {
	o.SealKey, o.IdentityKey, o.Dir = "fake-seal", "fake-node", t.TempDir()
	f, err := vaulttest.StartFake(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// TestRedirectsAreRefused: whatever answers at the Vault address with a
// redirect, to another host or from https to plain http, the node sends
// nothing there (neither its token nor a share) and gets ErrRedirect. A
// 3xx without a Location is an error too, never an empty success.
func TestRedirectsAreRefused(t *testing.T) {
	ctx := context.Background()
	share := []byte("the plaintext share 0123456789abcdef")
	tests := []struct {
		name string
		tls  bool
		code int
		// afterOpen redirects seal and sign of an open keystore; otherwise
		// the login itself is redirected.
		afterOpen bool
		toNowhere bool // no Location header
	}{
		{name: "fail/307 at login to another host", code: http.StatusTemporaryRedirect},
		{name: "fail/307 of a seal to another host", code: http.StatusTemporaryRedirect, afterOpen: true},
		{name: "fail/308 of a seal to another host", code: http.StatusPermanentRedirect, afterOpen: true},
		{name: "fail/302 at login from https to plain http", tls: true, code: http.StatusFound},
		{name: "fail/307 of a seal from https to plain http", tls: true, code: http.StatusTemporaryRedirect, afterOpen: true},
		{name: "fail/308 without Location is no empty answer", code: http.StatusPermanentRedirect, afterOpen: true, toNowhere: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, vaulttest.FakeOptions{TLS: tc.tls})
			rec := newRecorder(t)
			to := rec.srv.URL
			if tc.toNowhere {
				to = ""
			}
			cfg := fakeConfig(t, f)
			var errs []error
			if tc.afterOpen {
				k := openTest(t, cfg)
				f.Redirect(tc.code, to)
				_, err := k.Seal(ctx, []byte("aad"), share)
				errs = append(errs, err)
				_, err = k.Identity().Sign(nil, share, crypto.Hash(0))
				errs = append(errs, err)
			} else {
				f.Redirect(tc.code, to)
				k, err := Open(ctx, cfg, testLogger(t))
				if err == nil {
					k.Close()
				}
				errs = append(errs, err)
			}
			for _, err := range errs {
				if !errors.Is(err, ErrRedirect) {
					t.Errorf("err = %v, want ErrRedirect", err)
					continue
				}
				t.Logf("refused: %v", err)
				if strings.Contains(err.Error(), f.Token) || strings.Contains(err.Error(), string(share)) {
					t.Errorf("the error holds a secret: %v", err)
				}
			}
			if seen := rec.requests(); len(seen) > 0 {
				t.Fatalf("the redirect target received %d requests (token and body included): %q", len(seen), seen)
			}
		})
	}
}

// TestSelfTestRefusesIgnoredAAD: a transit that decrypts under associated
// data other than the sealing one (Vault before 1.13 ignored it) is
// refused at start; the same fake honouring the AAD opens.
func TestSelfTestRefusesIgnoredAAD(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/a transit that checks the associated data", func(t *testing.T) {
		f := startFake(t, vaulttest.FakeOptions{})
		openTest(t, fakeConfig(t, f))
	})
	t.Run("fail/a transit that ignores the associated data", func(t *testing.T) {
		f := startFake(t, vaulttest.FakeOptions{IgnoreAAD: true})
		k, err := Open(ctx, fakeConfig(t, f), testLogger(t))
		if err == nil {
			k.Close()
			t.Fatal("Open accepted a transit that ignores associated_data")
		}
		if !errors.Is(err, ErrAADIgnored) || !strings.Contains(err.Error(), "fake-seal") {
			t.Fatalf("Open = %v, want ErrAADIgnored naming the seal key", err)
		}
	})
}
