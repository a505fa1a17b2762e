package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/hsm/vault/vaulttest"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/signer"
)

// vaultBackupPolicy lets the operator write and read backups under
// secret/coffer/ on a Vault that keeps backups, and nothing else.
const vaultBackupPolicy = `
path "secret/data/coffer/*" { capabilities = ["create", "update", "read"] }
`

// e2eVault is one Vault dev server of the test: it holds one node's keys
// (provisioned by Init with the root token, used by the node with its own
// AppRole) and the other Vault node's backups.
type e2eVault struct {
	srv        *vaulttest.Server
	root       vault.Connection // root token: Init's admin connection
	backupYAML string           // --vault-config of a backup token on this server
	backupTok  string
}

func startE2EVault(t *testing.T, ctx context.Context, dir, name string) *e2eVault {
	t.Helper()
	srv, err := vaulttest.Start(ctx, vaulttest.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if err := srv.EnableTransit(ctx, "transit"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutPolicy(ctx, "coffer-backup", vaultBackupPolicy); err != nil {
		t.Fatal(err)
	}
	rootFile, err := vaulttest.WriteSecret(dir, name+"-root.token", srv.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Token(ctx, "coffer-backup")
	if err != nil {
		t.Fatal(err)
	}
	tokFile, err := vaulttest.WriteSecret(dir, name+"-backup.token", tok)
	if err != nil {
		t.Fatal(err)
	}
	yml := filepath.Join(dir, name+"-backup.yaml")
	doc := "address: " + srv.Addr + "\nca_file: " + srv.CAFile + "\nauth:\n  token_file: " + tokFile + "\n"
	if err := os.WriteFile(yml, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return &e2eVault{srv: srv, root: vault.Connection{Address: srv.Addr, CAFile: srv.CAFile, Auth: vault.Auth{TokenFile: rootFile}},
		backupYAML: yml, backupTok: tok}
}

// TestVault: node2 and node3 keep their keys in transit on two Vault dev
// servers (TLS), one node per Vault as t=1 requires, while node1 uses
// SoftHSM; a 2-of-3 key signs with every pair. Each Vault node logs in
// with its own AppRole, whose policy reaches its own keys only, and checks
// its Vault's audit devices. node2 is backed up to the other Vault's KV v2
// (never to its own), its store wiped and restored, and it signs again
// with the same key; a backup restored into another node is refused.
func TestVault(t *testing.T) {
	ctx := context.Background()
	secrets := t.TempDir()
	vaultA := startE2EVault(t, ctx, secrets, "a") // node2's keys, node3's backups
	vaultB := startE2EVault(t, ctx, secrets, "b") // node3's keys, node2's backups

	l, err := devcluster.Init(ctx, t.TempDir(), devcluster.Options{Nodes: 3, SelfTestSigning: true,
		SessionTimeout: 45 * time.Second, LogLevel: "debug",
		Vault: &devcluster.VaultOptions{Servers: []devcluster.VaultServer{
			{Nodes: []string{"node2"}, Admin: vaultA.root},
			{Nodes: []string{"node3"}, Admin: vaultB.root},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range map[string]*e2eVault{"node2": vaultA, "node3": vaultB} {
		n, _ := l.Node(id)
		raw, err := os.ReadFile(l.Path(n.Config))
		if err != nil || !bytes.Contains(raw, []byte("backend: vault")) || !bytes.Contains(raw, []byte("approle:")) ||
			bytes.Contains(raw, []byte(v.srv.RootToken)) || bytes.Contains(raw, []byte("-root.token")) {
			t.Fatalf("%s's config does not use its own AppRole by reference: %v\n%s", id, err, raw)
		}
	}
	t.Run("ok/each Vault node's AppRole reaches its own keys only", func(t *testing.T) {
		// Another key on the same Vault, as a second node's would be.
		for _, v := range []*e2eVault{vaultA, vaultB} {
			if _, err := v.srv.Root().Logical().Write("transit/keys/coffer-seal-other", map[string]any{"type": "aes256-gcm96"}); err != nil {
				t.Fatal(err)
			}
		}
		checkOwnKeysOnly(t, ctx, l, "node2")
		checkOwnKeysOnly(t, ctx, l, "node3")
	})
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
			t.Logf("--- vault A log tail:\n%s\n--- vault B log tail:\n%s", vaultA.srv.LogTail(15), vaultB.srv.LogTail(15))
		}
	})
	for _, id := range []string{"node2", "node3"} {
		n, _ := l.Node(id)
		if logs, _ := os.ReadFile(l.Path(n.Log)); !bytes.Contains(logs, []byte("none logs raw bodies")) {
			t.Errorf("%s did not check its Vault's audit devices", id)
		}
	}

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
		out, err := vaultCLI("--cluster", l.Dir, "backup", "--node", "node2", "--to", "vault://secret/coffer/node2", "--vault-config", vaultA.backupYAML)
		if err == nil || !strings.Contains(out, "keeps its keys in the Vault at "+vaultA.srv.Addr) {
			t.Fatalf("backup of node2 to its own Vault: %v\n%s", err, out)
		}
		out = runCoffer(t, "--cluster", l.Dir, "backup", "--node", "node2", "--to", "vault://secret/coffer/node2", "--vault-config", vaultB.backupYAML)
		if !strings.Contains(out, "backed up node2 (cluster dev): 1 keys") || !strings.Contains(out, "version 1") {
			t.Fatalf("coffer backup:\n%s", out)
		}
		// the audit log is not in the Vault backup: it comes back from the
		// auditors' bundle (taken here from the stopped node's file)
		bundle := exportOffline(t, l.Path(n2.Store))
		if err := os.Remove(l.Path(n2.Store)); err != nil {
			t.Fatal(err)
		}
		if out, ok := runCofferd(t, c, "store", "restore", "--config", l.Path(n2.Config), "--audit-tail", bundle); !ok {
			t.Fatalf("restore node2's audit log:\n%s", out)
		}
		out = runCoffer(t, "--cluster", l.Dir, "restore", "--node", "node2", "--from", "vault://secret/coffer/node2", "--vault-config", vaultB.backupYAML)
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
		out, err := vaultCLI("--cluster", l.Dir, "restore", "--node", "node2", "--from", "vault://secret/coffer/node2", "--vault-config", vaultB.backupYAML)
		if err == nil || !strings.Contains(out, "already holds keys") {
			t.Fatalf("restore over a live store: %v\n%s", err, out)
		}
	})

	t.Run("fail/a node's backup restored into another node", func(t *testing.T) {
		vc := vaultA.backupYAML
		c.StopNode("node3")
		out := runCoffer(t, "--cluster", l.Dir, "backup", "--node", "node3", "--to", "vault://secret/coffer/node3", "--vault-config", vc)
		if !strings.Contains(out, "backed up node3") {
			t.Fatalf("coffer backup of node3:\n%s", out)
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

// checkOwnKeysOnly logs in as node id does (its config's AppRole) and
// checks that its token carries its own policy only, and that Vault
// refuses it another seal key on the same Vault (coffer-seal-other), the
// backups and the audit devices' configuration.
func checkOwnKeysOnly(t *testing.T, ctx context.Context, l *devcluster.Layout, id string) {
	const otherKey = "coffer-seal-other"
	t.Helper()
	n, _ := l.Node(id)
	cfg, err := signer.LoadConfig(l.Path(n.Config))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := vault.Dial(ctx, cfg.HSM.Vault.Connection, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("%s's AppRole login: %v", id, err)
	}
	defer cl.Close(ctx)
	self, err := cl.Read(ctx, "auth/token/lookup-self", "auth/token")
	if err != nil {
		t.Fatal(err)
	}
	if pol := fmt.Sprint(self["policies"]); pol != "[coffer-node-"+id+" default]" && pol != "[default coffer-node-"+id+"]" {
		t.Errorf("%s's token has policies %s, want its own and default", id, pol)
	}
	for _, path := range []string{"transit/decrypt/" + otherKey, "transit/encrypt/" + otherKey, "transit/keys/" + otherKey, "secret/data/coffer/" + id} {
		_, err := cl.Write(ctx, path, "transit", `"update"`, map[string]any{"ciphertext": "vault:v1:AAAA"})
		if !errors.Is(err, vault.ErrPermissionDenied) {
			t.Errorf("%s may use %s: %v", id, path, err)
		}
	}
	if _, err := cl.Write(ctx, "sys/audit/raw", "sys", `"update"`, map[string]any{"type": "file"}); !errors.Is(err, vault.ErrPermissionDenied) {
		t.Errorf("%s may enable an audit device: %v", id, err)
	}
}
