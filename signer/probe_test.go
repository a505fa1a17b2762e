package signer

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// A probe (coffer bench history) runs a stopped node's code on its store
// and writes nothing to it: not even the first sight of whitelist entries,
// which would start their activation delays before the node saw them.
func TestProbeWritesNothing(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ledger.Open(filepath.Join(t.TempDir(), "node.db"), ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hot, _ := btcec.NewPrivateKey()
	cold, _ := btcec.NewPrivateKey()
	hotAddr, _ := btc.P2WPKHAddress(hot.PubKey().SerializeCompressed(), "regtest")
	coldAddr, _ := btc.P2WPKHAddress(cold.PubKey().SerializeCompressed(), "regtest")
	adminPub, adminKey, _ := ed25519.GenerateKey(rand.Reader)
	pk, _ := policy.PublicKeyFrom(adminPub)
	doc := strings.NewReplacer("%ADMIN%", pk.String(), "%HOT%", hotAddr, "%COLD%", coldAddr).Replace(gatePolicy)
	p, err := policy.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := policy.SignPolicy(rand.Reader, adminKey, "admin", p.Hash())
	sigJSON, _ := json.Marshal(sig)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.json"), sigJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Node: "node1", Cluster: "c"}
	cfg.Policy.File, cfg.Policy.Signatures = filepath.Join(dir, "p.yaml"), []string{filepath.Join(dir, "s.json")}
	lastTx := func() int {
		var id int
		_ = st.DB().View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := lastTx()
	if _, err := OpenProbe(cfg, Deps{Keystore: hsmtest.NewMemory(), Store: st, Log: log}); err != nil {
		t.Fatal(err)
	}
	if after := lastTx(); after != before {
		t.Fatalf("the probe wrote to the store: transaction %d → %d", before, after)
	}
}
