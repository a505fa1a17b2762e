package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/signer"
)

func writeNodeConfig(t *testing.T, dir, node string, keys map[string]ed25519.PublicKey) string {
	t.Helper()
	cfg := signer.Config{Node: node, Cluster: "prod"}
	for _, id := range []string{"node1", "node2"} {
		cfg.Members = append(cfg.Members, signer.MemberConfig{ID: id, IdentityKey: hex.EncodeToString(keys[id])})
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, node+".yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTrustedKeys(t *testing.T) {
	dir := t.TempDir()
	keys := map[string]ed25519.PublicKey{}
	for i, id := range []string{"node1", "node2"} {
		keys[id] = ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+i)), 32))).Public().(ed25519.PublicKey)
	}
	c1 := writeNodeConfig(t, dir, "node1", keys)
	c2 := writeNodeConfig(t, dir, "node2", keys)

	t.Run("ok/one key per member, named by its log origin", func(t *testing.T) {
		got, cluster, err := trustedKeys([]string{c1, c2})
		if err != nil || cluster != "prod" || len(got) != 2 {
			t.Fatalf("%v %q %v", got, cluster, err)
		}
		for i, id := range []string{"node1", "node2"} {
			v, err := note.NewVerifier(got[i])
			if err != nil || v.Name() != "coffer/prod/"+id {
				t.Fatalf("key %d %q: %v", i, got[i], err)
			}
		}
	})
	t.Run("fail/configs that disagree on a key", func(t *testing.T) {
		other := map[string]ed25519.PublicKey{"node1": keys["node1"], "node2": keys["node1"]}
		c3 := writeNodeConfig(t, t.TempDir(), "node2", other)
		if _, _, err := trustedKeys([]string{c1, c3}); err == nil || !strings.Contains(err.Error(), "disagree") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/a member without a usable identity key", func(t *testing.T) {
		c4 := writeNodeConfig(t, t.TempDir(), "node1", map[string]ed25519.PublicKey{"node1": keys["node1"]})
		if _, _, err := trustedKeys([]string{c4}); err == nil || !strings.Contains(err.Error(), "node2") {
			t.Fatalf("got %v", err)
		}
	})
}
