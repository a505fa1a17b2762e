package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm/softhsm"
)

// The tests run against SoftHSM2. TestMain writes one softhsm2.conf in a
// temp dir, points SOFTHSM2_CONF at it for the whole test binary (SoftHSM
// reads it once per C_Initialize), initializes every token the tests use,
// then provisions keys. It fails, never skips, when SoftHSM2 is missing.

// Tokens of the test binary, all in one token directory.
const (
	tokNode1 = "node1"     // default key labels; TLS, attributes, benchmarks
	tokNode2 = "node2"     // default key labels; TLS client
	tokConfA = "conform-a" // conformance: one key set per newKeystore call
	tokConfB = "conform-b"
	tokErrs  = "errors"    // default keys plus deliberately bad ones
	tokProv  = "provision" // empty; Provision tests
	tokLost  = "relogin"   // empty; sessions closed under a keystore
	tokRePIN = "repin"     // empty; its PIN changes under a keystore
)

// env is the fixture TestMain sets up; read-only once tests run.
var env struct {
	dir, module, conf string
	pin, soPIN        string
	pinFile           string
	logs              *lockedBuffer // every test logger also writes here
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	module, err := softhsm.ModulePath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: hsm/pkcs11 tests need SoftHSM2 and do not skip without it: %v\n"+
			"Install it (make test does): sudo apt-get install -y softhsm2\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "coffer-pkcs11-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir, module); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set up SoftHSM tokens:", err)
		return 1
	}
	code := m.Run()
	for _, s := range []string{env.pin, env.soPIN} {
		if bytes.Contains(env.logs.Bytes(), []byte(s)) {
			fmt.Fprintln(os.Stderr, "FAIL: a PIN appears in the logs of the tests")
			code = 1
		}
	}
	return code
}

func setup(dir, module string) error {
	env.dir, env.module, env.logs = dir, module, &lockedBuffer{}
	env.pin, env.soPIN = randomPIN(), randomPIN()
	env.pinFile = filepath.Join(dir, "user.pin")
	if err := os.WriteFile(env.pinFile, []byte(env.pin+"\n"), 0o600); err != nil {
		return err
	}
	conf, err := softhsm.WriteConf(dir)
	if err != nil {
		return err
	}
	env.conf = conf
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, l := range []string{tokNode1, tokNode2, tokConfA, tokConfB, tokErrs, tokProv, tokLost, tokRePIN} {
		if err := softhsm.InitToken(ctx, conf, l, env.soPIN, env.pin); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(env.logs, nil))
	for _, l := range []string{tokNode1, tokNode2, tokErrs} {
		if _, err := Provision(testConfig(l), log); err != nil {
			return err
		}
	}
	return addBadKeys(testConfig(tokErrs))
}

// testConfig is the config of a test token with the default key labels.
func testConfig(token string) Config {
	return Config{Module: env.module, TokenLabel: token, PINFile: env.pinFile}
}

// testLogger logs warnings and errors to the test output and everything
// to env.logs, which TestMain searches for PINs.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(env.logs, warnWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type warnWriter struct{ t testing.TB }

func (w warnWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("level=WARN")) || bytes.Contains(p, []byte("level=ERROR")) {
		w.t.Logf("%s", bytes.TrimSpace(p))
	}
	return len(p), nil
}

func randomPIN() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// Labels of the bad keys addBadKeys puts in the errors token.
const (
	labelExtractable = "bad-extractable" // AES-256, extractable and not sensitive
	labelAES128      = "bad-aes128"      // AES-128
	labelMismatched  = "bad-mismatched"  // Ed25519 private and public of different pairs
)

// addBadKeys creates keys that break the rules of DESIGN.md §4, for the
// tests that Open refuses them.
func addBadKeys(cfg Config) error {
	t, err := openTokenFlags(cfg.WithDefaults(), slog.New(slog.DiscardHandler), p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer t.close()
	aesGen := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}
	weak := sealKeyTemplate(labelExtractable)
	weak = append(weak, p11.NewAttribute(p11.CKA_EXTRACTABLE, true), p11.NewAttribute(p11.CKA_SENSITIVE, false))
	if _, err := t.mod.ctx.GenerateKey(t.sh, aesGen, override(weak)); err != nil {
		return fmt.Errorf("create %s: %w", labelExtractable, err)
	}
	short := append(sealKeyTemplate(labelAES128), p11.NewAttribute(p11.CKA_VALUE_LEN, 16))
	if _, err := t.mod.ctx.GenerateKey(t.sh, aesGen, override(short)); err != nil {
		return fmt.Errorf("create %s: %w", labelAES128, err)
	}
	edGen := []*p11.Mechanism{p11.NewMechanism(ckmECEdwardsKeyPairGen, nil)}
	pubA, privA := identityTemplates(labelMismatched + "-a")
	pubB, privB := identityTemplates(labelMismatched + "-b")
	privA = override(append(privA, p11.NewAttribute(p11.CKA_LABEL, labelMismatched)))
	pubB = override(append(pubB, p11.NewAttribute(p11.CKA_LABEL, labelMismatched)))
	for _, pair := range [][2][]*p11.Attribute{{pubA, privA}, {pubB, privB}} {
		if _, _, err := t.mod.ctx.GenerateKeyPair(t.sh, edGen, pair[0], pair[1]); err != nil {
			return fmt.Errorf("create %s: %w", labelMismatched, err)
		}
	}
	return nil
}

// override keeps the last value of each attribute type in tmpl.
func override(tmpl []*p11.Attribute) []*p11.Attribute {
	last := map[uint]int{}
	for i, a := range tmpl {
		last[a.Type] = i
	}
	var out []*p11.Attribute
	for i, a := range tmpl {
		if last[a.Type] == i {
			out = append(out, a)
		}
	}
	return out
}
