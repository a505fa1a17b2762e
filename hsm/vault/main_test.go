package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
)

// The tests run against a real Vault dev server (TLS, its own CA) that
// TestMain starts and stops by PID. It fails, never skips, when the Vault
// binary is missing (scripts/build-vault.sh builds it; make test runs it).

// Policies of the test server.
const (
	policyProvision = "coffer-provision" // create and read keys on the transit mount
	policyAllKeys   = "coffer-all-keys"  // what any node needs, for keys named per test
)

// env is the fixture TestMain sets up; read-only once tests run.
var env struct {
	srv           *vaulttest.Server
	dir           string
	nodeTokenFile string // policyAllKeys
	provTokenFile string // policyProvision
	secrets       []string
	logs          *lockedBuffer // every test logger also writes here
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := vaulttest.Start(ctx, vaulttest.Options{TLS: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: hsm/vault tests need a Vault server and do not skip without it: %v\n", err)
		return 1
	}
	defer srv.Stop()
	dir, err := os.MkdirTemp("", "coffer-vault-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(ctx, srv, dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set up the Vault server:", err)
		return 1
	}
	code := m.Run()
	for _, s := range env.secrets {
		if bytes.Contains(env.logs.Bytes(), []byte(s)) {
			fmt.Fprintln(os.Stderr, "FAIL: a Vault token or secret ID appears in the logs of the tests")
			code = 1
		}
	}
	return code
}

func setup(ctx context.Context, srv *vaulttest.Server, dir string) error {
	env.srv, env.dir, env.logs = srv, dir, &lockedBuffer{}
	env.secrets = append(env.secrets, srv.RootToken)
	if err := srv.EnableTransit(ctx, DefaultMount); err != nil {
		return err
	}
	if err := srv.PutPolicy(ctx, policyProvision, `path "transit/keys/*" { capabilities = ["create", "update", "read"] }`); err != nil {
		return err
	}
	all := `
path "transit/keys/*"    { capabilities = ["read"] }
path "transit/encrypt/*" { capabilities = ["update"] }
path "transit/decrypt/*" { capabilities = ["update"] }
path "transit/sign/*"    { capabilities = ["update"] }
`
	if err := srv.PutPolicy(ctx, policyAllKeys, all); err != nil {
		return err
	}
	var err error
	if env.nodeTokenFile, err = tokenFile(ctx, "node.token", policyAllKeys); err != nil {
		return err
	}
	if env.provTokenFile, err = tokenFile(ctx, "provision.token", policyProvision); err != nil {
		return err
	}
	// The default keys, for the error and TLS tests.
	_, err = Provision(ctx, provisionConfig(Config{}), slog.New(slog.NewTextHandler(env.logs, nil)))
	return err
}

// tokenFile creates a token with the policies and writes it to a file.
func tokenFile(ctx context.Context, name string, policies ...string) (string, error) {
	tok, err := env.srv.Token(ctx, policies...)
	if err != nil {
		return "", err
	}
	env.secrets = append(env.secrets, tok)
	return vaulttest.WriteSecret(env.dir, name, tok)
}

// nodeConfig is a config on the test server with the node token and the
// key names of base (defaults when empty).
func nodeConfig(base Config) Config {
	base.Address, base.CAFile = env.srv.Addr, env.srv.CAFile
	base.Auth = Auth{TokenFile: env.nodeTokenFile}
	return base.WithDefaults()
}

// provisionConfig is nodeConfig with the provisioning token.
func provisionConfig(base Config) Config {
	c := nodeConfig(base)
	c.Auth = Auth{TokenFile: env.provTokenFile}
	return c
}

// testLogger logs warnings and errors to the test output and everything
// to env.logs, which TestMain searches for secrets.
func testLogger(t testing.TB) *slog.Logger { return testLoggerTo(t, io.Discard) }

// testLoggerTo is testLogger that also writes to w.
func testLoggerTo(t testing.TB, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(env.logs, warnWriter{t}, w), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type warnWriter struct{ t testing.TB }

func (w warnWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("level=WARN")) || bytes.Contains(p, []byte("level=ERROR")) {
		w.t.Logf("%s", bytes.TrimSpace(p))
	}
	return len(p), nil
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
