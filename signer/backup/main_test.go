package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
	"github.com/cofferhq/coffer/ledger"
)

// The tests run against a real Vault dev server that TestMain starts and
// stops by PID: its transit engine is the nodes' keystore, its KV v2
// engine at secret/ holds the backups. They fail, never skip, without the
// Vault binary (scripts/build-vault.sh).

var env struct {
	srv      *vaulttest.Server
	dir      string
	rootFile string
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := vaulttest.Start(ctx, vaulttest.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: signer/backup tests need a Vault server and do not skip without it: %v\n", err)
		return 1
	}
	defer srv.Stop()
	dir, err := os.MkdirTemp("", "coffer-backup-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.srv, env.dir = srv, dir
	if env.rootFile, err = vaulttest.WriteSecret(dir, "root.token", srv.RootToken); err == nil {
		err = srv.EnableTransit(ctx, "transit")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set up the Vault server:", err)
		return 1
	}
	return m.Run()
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// conn is a connection to the test server with the root token, or with
// tokenFile when given.
func conn(tokenFile string) vault.Connection {
	if tokenFile == "" {
		tokenFile = env.rootFile
	}
	return vault.Connection{Address: env.srv.Addr, Auth: vault.Auth{TokenFile: tokenFile}}.WithDefaults()
}

var nodes atomic.Int64

// nodeKeystore provisions transit keys for a test node and opens them.
func nodeKeystore(t *testing.T) hsm.Keystore {
	t.Helper()
	n := nodes.Add(1)
	cfg := vault.Config{Connection: conn(""), SealKey: fmt.Sprintf("seal-%d", n), IdentityKey: fmt.Sprintf("node-%d", n)}
	ctx := context.Background()
	if _, err := vault.Provision(ctx, cfg, discard()); err != nil {
		t.Fatal(err)
	}
	k, err := vault.Open(ctx, cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil && !errors.Is(err, hsm.ErrClosed) {
			t.Error(err)
		}
	})
	return k
}

// openStore opens (creating) a node store at path.
func openStore(t *testing.T, path string) *ledger.Store {
	t.Helper()
	st, err := ledger.Open(path, ledger.Options{}, discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func tempStore(t *testing.T) *ledger.Store {
	return openStore(t, filepath.Join(t.TempDir(), "node.db"))
}

// kvAt dials the test server and binds a backup location.
func kvAt(t *testing.T, loc, tokenFile string) *KV {
	t.Helper()
	l, err := ParseLocation(loc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := vault.Dial(context.Background(), conn(tokenFile), discard())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := NewKV(c, l)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}
