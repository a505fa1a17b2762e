package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// vaultE2EPolicy lets the cluster's Vault node provision and use its
// transit keys, and the operator write and read backups under
// secret/coffer/.
const vaultE2EPolicy = `
path "transit/keys/*"       { capabilities = ["create", "update", "read"] }
path "transit/encrypt/*"    { capabilities = ["update"] }
path "transit/decrypt/*"    { capabilities = ["update"] }
path "transit/sign/*"       { capabilities = ["update"] }
path "secret/data/coffer/*" { capabilities = ["create", "update", "read"] }
`

// TestVault: a real Vault dev server (TLS) holds node2's keys in transit
// while node1 and node3 use SoftHSM; a 2-of-3 key signs with every pair.
// node2 is backed up to Vault KV v2, its store wiped and restored, and it
// signs again with the same key; a backup restored into another node is
// refused.
func TestVault(t *testing.T) {
	ctx := context.Background()
	srv, err := vaulttest.Start(ctx, vaulttest.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if err := srv.EnableTransit(ctx, "transit"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutPolicy(ctx, "coffer-e2e", vaultE2EPolicy); err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Token(ctx, "coffer-e2e")
	if err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	tokFile, err := vaulttest.WriteSecret(secrets, "vault.token", tok)
	if err != nil {
		t.Fatal(err)
	}
	conn := vault.Connection{Address: srv.Addr, CAFile: srv.CAFile, Auth: vault.Auth{TokenFile: tokFile}}

	l, err := devcluster.Init(ctx, t.TempDir(), devcluster.Options{Nodes: 3, SelfTestSigning: true,
		SessionTimeout: 45 * time.Second, LogLevel: "debug",
		Vault: &devcluster.VaultOptions{Nodes: []string{"node2"}, Connection: conn}})
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := os.ReadFile(filepath.Join(l.Dir, "node2", "cofferd.yaml"))
	if err != nil || !bytes.Contains(cfg2, []byte("backend: vault")) || bytes.Contains(cfg2, []byte(tok)) {
		t.Fatalf("node2's config does not use Vault by reference: %v\n%s", err, cfg2)
	}
	err = l.ImportPreParams(ctx, fixtureFile(t), map[string][]int{"node1": {0, 3}, "node2": {1, 4}, "node3": {2, 5}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := devcluster.Start(ctx, l, filepath.Join(binDir, "cofferd"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			for _, n := range l.Nodes {
				t.Logf("--- %s log tail:\n%s", n.ID, c.LogTail(n.ID, 15))
			}
			t.Logf("--- vault log tail:\n%s", srv.LogTail(15))
		}
	})

	all := []string{"node1", "node2", "node3"}
	key, err := keygen(c, "node1", "mixed-1", 1, all, nil)
	if err != nil {
		t.Fatalf("keygen 2-of-3 across Vault and SoftHSM: %v", err)
	}
	signs := func(t *testing.T, parties ...string) {
		t.Helper()
		r, ok, err := selfTestSign(c, "mixed-1", parties, nil)
		if err != nil || !ok || !bytes.Equal(r.PublicKey, key.PublicKey) {
			t.Fatalf("%v: ok=%v err=%v", parties, ok, err)
		}
	}
	t.Run("ok/every pair signs, Vault node included", func(t *testing.T) {
		signs(t, "node2", "node1")
		signs(t, "node1", "node3")
		signs(t, "node3", "node2")
	})

	n2, _ := l.Node("node2")
	t.Run("ok/backup, wipe, restore: node2 signs again", func(t *testing.T) {
		c.StopNode("node2")
		out := runCoffer(t, "--cluster", l.Dir, "backup", "--node", "node2", "--to", "vault://secret/coffer/node2")
		if !strings.Contains(out, "backed up node2 (cluster dev): 1 keys") || !strings.Contains(out, "version 1") {
			t.Fatalf("coffer backup:\n%s", out)
		}
		if err := os.Remove(l.Path(n2.Store)); err != nil {
			t.Fatal(err)
		}
		out = runCoffer(t, "--cluster", l.Dir, "restore", "--node", "node2", "--from", "vault://secret/coffer/node2")
		if !strings.Contains(out, "restored node2 (cluster dev) from vault://secret/coffer/node2 version 1: 1 keys") {
			t.Fatalf("coffer restore:\n%s", out)
		}
		if err := c.StartNode(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		signs(t, "node2", "node3")
		signs(t, "node1", "node2")
	})

	t.Run("fail/restore refuses a store that holds keys", func(t *testing.T) {
		c.StopNode("node2")
		defer func() {
			if err := c.StartNode(ctx, "node2"); err != nil {
				t.Fatal(err)
			}
		}()
		out, err := vaultCLI("--cluster", l.Dir, "restore", "--node", "node2", "--from", "vault://secret/coffer/node2")
		if err == nil || !strings.Contains(out, "already holds keys") {
			t.Fatalf("restore over a live store: %v\n%s", err, out)
		}
	})

	t.Run("fail/a SoftHSM node's backup restored into another node", func(t *testing.T) {
		vc := filepath.Join(secrets, "vault.yaml")
		yml := "address: " + srv.Addr + "\nca_file: " + srv.CAFile + "\nauth:\n  token_file: " + tokFile + "\n"
		if err := os.WriteFile(vc, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		c.StopNode("node3")
		out := runCoffer(t, "--cluster", l.Dir, "backup", "--node", "node3", "--to", "vault://secret/coffer/node3", "--vault-config", vc)
		if !strings.Contains(out, "backed up node3") {
			t.Fatalf("coffer backup of a SoftHSM node:\n%s", out)
		}
		c.StopNode("node1")
		n1, _ := l.Node("node1")
		before, err := os.ReadFile(l.Path(n1.Store))
		if err != nil {
			t.Fatal(err)
		}
		out, err = vaultCLI("--cluster", l.Dir, "restore", "--node", "node1", "--from", "vault://secret/coffer/node3", "--vault-config", vc)
		if err == nil || !strings.Contains(out, "belongs to another node") || !strings.Contains(out, "would not unseal") {
			t.Fatalf("restore of node3's backup into node1: %v\n%s", err, out)
		}
		if after, _ := os.ReadFile(l.Path(n1.Store)); !bytes.Equal(before, after) {
			t.Fatal("a refused restore changed node1's store")
		}
		for _, n := range []string{"node1", "node3"} {
			if err := c.StartNode(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		signs(t, "node1", "node3")
	})
}

// vaultCLI runs the CLI and returns its output and error.
func vaultCLI(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "coffer"), args...).CombinedOutput()
	return string(out), err
}
