package devcluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/hsm/vault"
)

// TestVaultLayout: Init refuses, before it creates anything, a layout that
// puts more than t nodes on one Vault (one trust domain), and accepts one
// node per Vault.
func TestVaultLayout(t *testing.T) {
	on := func(addr string, nodes ...string) VaultServer {
		return VaultServer{Nodes: nodes, Admin: vault.Connection{Address: addr, Auth: vault.Auth{TokenFile: "/root.token"}}}
	}
	tests := []struct {
		name  string
		nodes int
		v     VaultOptions
		want  []string // nil: accepted
	}{
		{"ok/one node per Vault", 3, VaultOptions{Servers: []VaultServer{
			on("https://127.0.0.1:8200", "node2"), on("https://127.0.0.1:8300", "node3")}}, nil},
		{"ok/two on one Vault with t=2 of 5", 5, VaultOptions{Threshold: 2, Servers: []VaultServer{
			on("https://127.0.0.1:8200", "node1", "node2"), on("https://127.0.0.1:8300", "node3", "node4")}}, nil},
		{"fail/two nodes on one Vault, t=1", 3, VaultOptions{Servers: []VaultServer{
			on("https://127.0.0.1:8200", "node1", "node2")}},
			[]string{"the Vault at https://127.0.0.1:8200 would hold the keys of node1, node2: more than t=1", "trust domain", "rebuild every key"}},
		{"fail/one Vault listed twice under two spellings", 3, VaultOptions{Servers: []VaultServer{
			on("https://127.0.0.1:8200", "node1"), on("https://127.0.0.1:8200/", "node3")}},
			[]string{"would hold the keys of node1, node3: more than t=1"}},
		{"fail/every node on one Vault, t=2", 3, VaultOptions{Threshold: 2, Servers: []VaultServer{
			on("http://127.0.0.1:8200", "node1", "node2", "node3")}},
			[]string{"node1, node2, node3: more than t=2"}},
		{"fail/t leaves no quorum", 3, VaultOptions{Threshold: 3, Servers: []VaultServer{on("https://127.0.0.1:8200", "node1")}},
			[]string{"t=3: want 1..2"}},
		{"fail/unknown node", 3, VaultOptions{Servers: []VaultServer{on("https://127.0.0.1:8200", "node4")}},
			[]string{`no node "node4"`}},
		{"fail/a node on two Vaults", 3, VaultOptions{Servers: []VaultServer{
			on("https://127.0.0.1:8200", "node1"), on("https://127.0.0.1:8300", "node1")}},
			[]string{"node1 is on two Vault servers"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Nodes: tc.nodes, Vault: &tc.v}
			if tc.want == nil {
				if err := o.checkVaultLayout(); err != nil {
					t.Fatal(err)
				}
				return
			}
			dir := filepath.Join(t.TempDir(), "cluster")
			_, err := Init(context.Background(), dir, o)
			if err == nil {
				t.Fatal("Init accepted the layout")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
				t.Errorf("Init created %s before refusing the layout", dir)
			}
		})
	}
}
