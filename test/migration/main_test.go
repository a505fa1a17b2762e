package migration

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/softhsm"
)

var writeFixture = flag.String("write-fixture", "", "write a new fixture into this directory with the current release, then exit")

// fixtureDirs are the committed fixtures, each made by an older release.
var fixtureDirs = []string{"testdata/tss-lib-v2.0.2"}

// env is what TestMain prepared: every fixture's tokens copied into one
// SoftHSM token directory (SoftHSM reads one conf per process).
var env struct {
	module  string
	pinFile string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *writeFixture != "" {
		if err := generate(*writeFixture); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: write fixture:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "fixture written to", *writeFixture)
		os.Exit(0)
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	module, err := softhsm.ModulePath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: migration tests need SoftHSM2 and do not skip without it: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "coffer-migration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	conf, err := softhsm.WriteConf(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	var pin string
	for _, fd := range fixtureDirs {
		f, err := loadFixture(fd)
		if err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			return 1
		}
		if pin != "" && f.UserPIN != pin {
			fmt.Fprintln(os.Stderr, "FAIL: fixtures use different PINs")
			return 1
		}
		pin = f.UserPIN
		if err := os.CopyFS(filepath.Join(dir, "tokens"), os.DirFS(filepath.Join(fd, "tokens"))); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: copy fixture tokens:", err)
			return 1
		}
	}
	env.module = module
	env.pinFile = filepath.Join(dir, "user.pin")
	if err := os.WriteFile(env.pinFile, []byte(pin+"\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	return m.Run()
}

// fixture is fixture.json: what an older release sealed.
type fixture struct {
	Made       string   `json:"made"` // the release and library that made it
	Cluster    string   `json:"cluster"`
	KeyID      string   `json:"key_id"`
	Generation uint32   `json:"generation"`
	Threshold  int      `json:"threshold"`
	Committee  []string `json:"committee"`
	PublicKey  []byte   `json:"public_key"` // SEC1 compressed
	// UserPIN opens the fixture's SoftHSM tokens: test material only.
	UserPIN string `json:"user_pin"`
	// TokenPrefix + node is each node's token label.
	TokenPrefix string            `json:"token_prefix"`
	Shares      map[string][]byte `json:"sealed_shares"`    // node → sealed share blob
	PreParams   map[string][]byte `json:"sealed_preparams"` // node → sealed pre-parameters blob
}

func loadFixture(dir string) (*fixture, error) {
	b, err := os.ReadFile(filepath.Join(dir, "fixture.json"))
	if err != nil {
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode %s/fixture.json: %w", dir, err)
	}
	return &f, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// keystore opens node's token of fixture f.
func keystore(t testing.TB, f *fixture, node string) *pkcs11.Keystore {
	t.Helper()
	ks, err := pkcs11.Open(pkcs11.Config{Module: env.module, TokenLabel: f.TokenPrefix + node, PINFile: env.pinFile}, quiet())
	if err != nil {
		t.Fatalf("open token of %s: %v", node, err)
	}
	t.Cleanup(func() { _ = ks.Close() })
	return ks
}

func fixtureCtx() context.Context { return context.Background() }
