package signer

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// TestPoolFillsInBackground generates one real pre-parameter set (safe
// primes: tens of seconds) through the node's background filler, and
// checks that it is stored sealed and opens only with this node's AAD.
func TestPoolFillsInBackground(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	path := filepath.Join(t.TempDir(), "node.db")
	st, err := ledger.Open(path, ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	ks := hsmtest.NewMemory()
	cfg := &Config{Node: "node1", Cluster: "c"}
	cfg.PreParams.PoolSize, cfg.PreParams.Generate, cfg.PreParams.Concurrency = 1, true, 2
	n := &Node{cfg: cfg, ks: ks, store: st, log: log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.fillPool(ctx) }()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		if c, _ := st.PreParamsCount(); c == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pool not filled within 4 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pp, err := n.takePreParams(context.Background())
	if err != nil {
		t.Fatalf("take pooled set: %v", err)
	}
	if !pp.ValidateWithProof() {
		t.Fatal("pooled set does not validate")
	}
	_ = st.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{pp.P.Bytes(), pp.Q.Bytes(), pp.PaillierSK.P.Bytes(), []byte(pp.P.String())} {
		if bytes.Contains(raw, secret) {
			t.Fatal("a pre-parameter secret is in the store in plaintext")
		}
	}
	ctss.ZeroPreParams(pp)
	if pp.P.Sign() != 0 {
		t.Fatal("ZeroPreParams left P")
	}
}
