package tokensigner

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/policy"
)

// TestApprovalSignature signs an officer approval with each supported key
// and checks it with the key generated outside the token, as the nodes'
// policy.VerifyApproval does.
func TestApprovalSignature(t *testing.T) {
	digest := policy.Hash(sha256.Sum256([]byte("request digest")))
	for _, tc := range []struct {
		name, label, alg string
		want             crypto.PublicKey
	}{
		{"ok/ed25519", labelEd, "ed25519", env.ed.Public()},
		{"ok/ecdsa p-256", labelP256, "p256", env.p256.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, cfg(tc.label))
			if !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.want) {
				t.Fatalf("Public() = %v, want the imported key", s.Public())
			}
			if s.Algorithm() != tc.alg {
				t.Fatalf("Algorithm() = %q, want %q", s.Algorithm(), tc.alg)
			}
			want, err := policy.PublicKeyFrom(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []policy.Verdict{policy.VerdictApprove, policy.VerdictReject} {
				sig, err := policy.SignApproval(rand.Reader, s, digest, v, signedAt)
				if err != nil {
					t.Fatalf("SignApproval: %v", err)
				}
				if !want.Verify(policy.ApprovalMessage(digest, v, signedAt), sig) {
					t.Fatalf("verdict %d: signature does not verify with the imported key", v)
				}
				other := policy.VerdictReject + policy.VerdictApprove - v
				if want.Verify(policy.ApprovalMessage(digest, other, signedAt), sig) {
					t.Fatalf("verdict %d: signature also verifies for verdict %d", v, other)
				}
			}
		})
	}
}

// TestSignWithGoVerifiers checks the signature formats against crypto/…
// directly: pure Ed25519 over the message, ASN.1 DER ECDSA over a digest.
func TestSignWithGoVerifiers(t *testing.T) {
	msg := []byte("coffer/approval/v1 test message")
	d := sha256.Sum256(msg)
	ed, err := Open(cfg(labelEd))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ed.Sign(nil, msg, crypto.Hash(0))
	if err != nil || !ed25519.Verify(env.ed.Public().(ed25519.PublicKey), msg, sig) {
		t.Fatalf("ed25519: %v (verifies: %v)", err, err == nil && ed25519.Verify(env.ed.Public().(ed25519.PublicKey), msg, sig))
	}
	if sig2, _ := ed.Sign(nil, msg, &ed25519.Options{}); string(sig2) != string(sig) {
		t.Fatal("ed25519: *ed25519.Options{} gives another signature (Ed25519 is deterministic)")
	}
	if err := ed.Close(); err != nil {
		t.Fatal(err)
	}
	ec := open(t, cfg(labelP256))
	der, err := ec.Sign(nil, d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&env.p256.PublicKey, d[:], der) {
		t.Fatalf("p256: %v", err)
	}
}

func TestSignRefusesOptions(t *testing.T) {
	msg := []byte("message")
	d := sha256.Sum256(msg)
	d512 := sha512.Sum512(msg)
	for _, tc := range []struct {
		name, label string
		msg         []byte
		opts        crypto.SignerOpts
	}{
		{"fail/ed25519 nil options", labelEd, msg, nil},
		{"fail/ed25519ph", labelEd, d512[:], crypto.SHA512},
		{"fail/ed25519ctx", labelEd, msg, &ed25519.Options{Context: "ctx"}},
		{"fail/p256 without a digest", labelP256, msg, crypto.Hash(0)},
		{"fail/p256 with sha-512", labelP256, d512[:], crypto.SHA512},
		{"fail/p256 digest of the wrong length", labelP256, d[:31], crypto.SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := open(t, cfg(tc.label)).Sign(nil, tc.msg, tc.opts); !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("Sign = %v, want ErrUnsupportedKey", err)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	withToken := func(c Config, tok string) Config { c.TokenLabel = tok; return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		pin  *string // value of the PIN variable for this case; nil keeps the right one
		want error
		text string
	}{
		{name: "fail/unsupported curve P-384", cfg: cfg(labelP384), want: ErrUnsupportedKey},
		{name: "fail/key not on the token", cfg: cfg("nobody"), want: hsm.ErrKeyNotFound, text: `"nobody"`},
		{name: "fail/label on two keys", cfg: cfg(labelDup), text: "must be unique"},
		{name: "fail/private and public key of different pairs", cfg: cfg(labelMismatch), want: ErrKeyMismatch},
		{name: "fail/extractable key", cfg: cfg(labelExtractable), want: hsm.ErrKeyPolicy, text: "CKA_SENSITIVE"},
		{name: "fail/unknown token", cfg: withToken(cfg(labelEd), "nosuchtoken"), want: hsm.ErrTokenNotFound, text: `"nosuchtoken"`},
		{name: "fail/wrong PIN", cfg: withToken(cfg(labelEd), tokOther), pin: ptr("not-the-pin-0000"), want: hsm.ErrLogin, text: pinVar},
		{name: "fail/PIN variable empty", cfg: cfg(labelEd), pin: ptr(""), text: pinVar},
		{name: "fail/PIN variable unset", cfg: Config{Module: env.module, TokenLabel: tokOfficer, KeyLabel: labelEd, PINEnv: "TOKENSIGNER_TEST_UNSET"}, text: "TOKENSIGNER_TEST_UNSET: not set"},
		{name: "fail/module missing", cfg: Config{Module: "/nonexistent/libnothing.so", TokenLabel: tokOfficer, KeyLabel: labelEd, PINEnv: pinVar}, text: "libnothing.so"},
		{name: "fail/module is not a library", cfg: Config{Module: filepathAbs(t, "doc.go"), TokenLabel: tokOfficer, KeyLabel: labelEd, PINEnv: pinVar}, text: "not a loadable PKCS#11 library"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.pin != nil {
				// Open unsets the variable it reads (and keeps the value
				// in the process): put the right PIN back for later tests.
				os.Setenv(pinVar, *tc.pin)
				t.Cleanup(func() { os.Setenv(pinVar, env.pin) })
			}
			s, err := Open(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Open = %v, want it to mention %q", err, tc.text)
			}
			if strings.Contains(err.Error(), env.pin) {
				t.Fatal("the error contains the PIN")
			}
		})
	}
	// the module was released after each failure: a good key still opens
	open(t, cfg(labelEd))
}

func TestConfigValidate(t *testing.T) {
	good := cfg(labelEd)
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		wants []string
	}{
		{"ok/complete", func(*Config) {}, nil},
		{"fail/everything missing", func(c *Config) { *c = Config{} }, []string{"module: required", "token label: required", "key label: required", "PIN variable: required"}},
		{"fail/relative module", func(c *Config) { c.Module = "libsofthsm2.so" }, []string{"absolute path"}},
		{"fail/long token label", func(c *Config) { c.TokenLabel = strings.Repeat("x", 33) }, []string{"longer than 32"}},
		{"fail/padded labels", func(c *Config) { c.TokenLabel, c.KeyLabel = " a", "b " }, []string{"token label", "key label"}},
		{"fail/PIN variable is not a name", func(c *Config) { c.PINEnv = "1234" }, []string{`"1234" is not an environment variable name`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate succeeded")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("Validate = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestClose(t *testing.T) {
	s, err := Open(cfg(labelEd))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Sign(nil, []byte("m"), crypto.Hash(0)); !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("Sign after Close = %v, want hsm.ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("second Close = %v, want hsm.ErrClosed", err)
	}
	if !s.Public().(ed25519.PublicKey).Equal(env.ed.Public()) {
		t.Fatal("Public after Close changed")
	}
}

func TestPINNeverFormats(t *testing.T) {
	p := pin{v: "123456"}
	for _, got := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q %x", p, p, p, p, p, p), p.LogValue().String()} {
		if strings.Contains(got, "123456") || strings.Contains(got, "313233") {
			t.Fatalf("PIN formatted: %q", got)
		}
	}
}

func open(t *testing.T, c Config) *Signer {
	t.Helper()
	s, err := Open(c)
	if err != nil {
		t.Fatalf("Open(%s): %v", c.KeyLabel, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ptr(s string) *string { return &s }

func filepathAbs(t *testing.T, name string) string {
	p, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signedAt is the signing time the approvals in these tests carry.
var signedAt = time.UnixMilli(1_767_225_600_000)

// TestPINVariableUnset: Open takes the PIN out of the environment, so a
// child process (a hook, a shell) does not inherit it.
func TestPINVariableUnset(t *testing.T) {
	os.Setenv(pinVar, env.pin)
	t.Cleanup(func() { os.Setenv(pinVar, env.pin) })
	open(t, cfg(labelEd))
	if _, set := os.LookupEnv(pinVar); set {
		t.Fatalf("%s is still in the environment after Open", pinVar)
	}
	open(t, cfg(labelEd)) // the process still has it
}
