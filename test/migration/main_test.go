package migration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/softhsm"
)

// fixtureDirs are the committed fixtures, each made by an older release.
var fixtureDirs = []string{"testdata/tss-lib-v2.0.2"}

// testNodes hold a token each; node4 only joins the reshare's new committee.
var testNodes = []string{"node1", "node2", "node3", "node4"}

// env is what TestMain prepared: one SoftHSM token per node, made in a
// temporary directory with a random PIN (SoftHSM reads one conf per process).
var env struct {
	module  string
	pinFile string
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

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
	if err := setup(dir, module); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set up SoftHSM tokens:", err)
		return 1
	}
	return m.Run()
}

func setup(dir, module string) error {
	conf, err := softhsm.WriteConf(dir)
	if err != nil {
		return err
	}
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return err
	}
	pin, so := randomPIN(), randomPIN()
	env.module, env.pinFile = module, filepath.Join(dir, "user.pin")
	if err := os.WriteFile(env.pinFile, []byte(pin+"\n"), 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range testNodes {
		if err := softhsm.InitToken(ctx, conf, "mig-"+n, so, pin); err != nil {
			return err
		}
		if _, err := pkcs11.Provision(pkcs11.Config{Module: module, TokenLabel: "mig-" + n, PINFile: env.pinFile}, quiet()); err != nil {
			return err
		}
	}
	return nil
}

func randomPIN() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fixture is fixture.json: a 2-of-3 key's share encodings and four
// pre-parameter sets exactly as an older release encoded them for sealing
// (the bytes its nodes sealed in their HSMs). Test material only.
type fixture struct {
	Made       string                     `json:"made"`
	Cluster    string                     `json:"cluster"`
	KeyID      string                     `json:"key_id"`
	Generation uint32                     `json:"generation"`
	Threshold  int                        `json:"threshold"`
	Committee  []string                   `json:"committee"`
	PublicKey  []byte                     `json:"public_key"` // SEC1 compressed
	Shares     map[string]json.RawMessage `json:"shares"`     // node → share encoding
	PreParams  map[string]json.RawMessage `json:"preparams"`  // node → pre-parameter encoding
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

// keystore opens node's token.
func keystore(t testing.TB, node string) *pkcs11.Keystore {
	t.Helper()
	ks, err := pkcs11.Open(pkcs11.Config{Module: env.module, TokenLabel: "mig-" + node, PINFile: env.pinFile}, quiet())
	if err != nil {
		t.Fatalf("open token of %s: %v", node, err)
	}
	t.Cleanup(func() { _ = ks.Close() })
	return ks
}
