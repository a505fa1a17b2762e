package storerestore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is a store with its audit log, the key fixed by seed.
type node struct {
	t          *testing.T
	path, raft string
	seed       byte
	st         *ledger.Store
	log        *audit.Log
}

func newNode(t *testing.T, seed byte) *node {
	dir := t.TempDir()
	n := &node{t: t, path: filepath.Join(dir, "node.db"), raft: filepath.Join(dir, "raft"), seed: seed}
	if err := os.Mkdir(n.raft, 0o700); err != nil {
		t.Fatal(err)
	}
	n.open()
	t.Cleanup(n.close)
	return n
}

func (n *node) ks() *hsmtest.Memory {
	ks, err := hsmtest.NewMemoryWithKeys(bytes.Repeat([]byte{n.seed}, 32), ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n.seed + 1}, 32)))
	if err != nil {
		n.t.Fatal(err)
	}
	return ks
}

func (n *node) open() {
	st, err := ledger.Open(n.path, ledger.Options{LockTimeout: time.Second}, discard)
	if err != nil {
		n.t.Fatal(err)
	}
	l, err := audit.New(audit.Config{Cluster: "t", Node: "node1"}, audit.Deps{DB: st.DB(), Identity: n.ks().Identity(), Logger: discard})
	if err != nil {
		st.Close()
		n.t.Fatal(err)
	}
	n.st, n.log = st, l
}

func (n *node) close() {
	if n.log != nil {
		n.log.Close()
		n.st.Close()
		n.log, n.st = nil, nil
	}
}

func (n *node) append(from, count int) {
	for i := from; i < from+count; i++ {
		rec := audit.Record{Kind: audit.KindTransferSubmitted, Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			Transfer: &audit.TransferSubmitted{RequestID: fmt.Sprintf("req-%d", i), RequestDigest: sha256.Sum256(fmt.Append(nil, i)),
				Wallet: "hot", Destination: "cold", Asset: "BTC", Amount: "1", Chain: "btc", PolicyHash: sha256.Sum256(nil),
				Expiry: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), Initiator: "svc"}}
		if _, err := n.log.Append(context.Background(), rec); err != nil {
			n.t.Fatal(err)
		}
	}
}

func (n *node) snapshot() string {
	path := filepath.Join(n.t.TempDir(), "snap")
	if _, err := WriteFile(path, func(w io.Writer) (int64, error) { return Snapshot(n.st.DB(), w) }); err != nil {
		n.t.Fatal(err)
	}
	return path
}

func (n *node) bundle() string {
	path := filepath.Join(n.t.TempDir(), "bundle")
	f, err := os.Create(path)
	if err != nil {
		n.t.Fatal(err)
	}
	defer f.Close()
	if err := n.log.Export(context.Background(), f); err != nil {
		n.t.Fatal(err)
	}
	return path
}

func (n *node) opts(snap, tail string) Options {
	origin, _ := audit.Origin("t", "node1")
	key, err := audit.VerifierKey(origin, n.ks().Identity().Public().(ed25519.PublicKey))
	if err != nil {
		n.t.Fatal(err)
	}
	return Options{Path: n.path, RaftDir: n.raft, Snapshot: snap, AuditTail: tail, Origin: origin, Key: key, Now: time.Now()}
}

// TestRestore: a snapshot taken while the node runs, four entries signed
// after it; the restore is refused while the node runs, without the tail,
// and for another node's snapshot, each leaving the store in place; with
// the tail it puts the snapshot in place, the old store and raft
// directory kept aside, and the node reopens with its whole log.
func TestRestore(t *testing.T) {
	n := newNode(t, 1)
	n.append(0, 5)
	snap := n.snapshot()
	n.append(5, 4)
	tail := n.bundle()
	other := newNode(t, 7)
	other.append(0, 2)
	otherSnap := other.snapshot()
	ctx := context.Background()

	if _, err := Restore(ctx, n.opts(snap, tail), discard); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore under a running node: %v, want refused as in use", err)
	}
	n.close()
	for _, c := range []struct {
		name, snap, tail, want string
	}{
		{"fail/without the tail", snap, "", "--audit-tail"},
		{"fail/another node's snapshot", otherSnap, "", "not of this node"},
		{"fail/a cut snapshot", cut(t, snap), tail, "not whole"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Restore(ctx, n.opts(c.snap, c.tail), discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("restore: %v, want an error saying %q", err, c.want)
			}
			if _, err := os.Stat(n.path); err != nil {
				t.Fatalf("the store moved: %v", err)
			}
			if _, err := os.Stat(n.raft); err != nil {
				t.Fatalf("the raft directory moved: %v", err)
			}
		})
	}
	if _, err := Restore(ctx, n.opts(snap, ""), discard); !errors.Is(err, ErrBehind) {
		t.Fatalf("restore without the tail: %v, want ErrBehind", err)
	}

	res, err := Restore(ctx, n.opts(snap, tail), discard)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.AuditSize != 9 || res.Tail.From != 5 || res.Tail.To != 9 || res.Mark != 9 || res.MovedStore == "" || res.MovedRaft == "" {
		t.Fatalf("restore: %+v", res)
	}
	for _, p := range []string{res.MovedStore, res.MovedRaft} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("not kept aside: %v", err)
		}
	}
	if _, err := os.Stat(n.raft); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the raft directory is still in place: %v", err)
	}
	n.open()
	if s := n.log.Size(); s != 9 {
		t.Fatalf("restored log size %d, want 9", s)
	}
	n.append(9, 1)
}

// cut writes a copy of path without its last 4 KiB.
func cut(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cut")
	if err := os.WriteFile(out, b[:len(b)-4096], 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestoreFromBundleAlone: a store lost whole, no snapshot. The audit
// log comes back from the bundle alone, byte for byte, into an empty
// store; another node's bundle is refused.
func TestRestoreFromBundleAlone(t *testing.T) {
	n := newNode(t, 1)
	n.append(0, 6)
	tail := n.bundle()
	other := newNode(t, 7)
	other.append(0, 2)
	otherTail := other.bundle()
	n.close()
	if err := os.Remove(n.path); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Restore(ctx, n.opts("", ""), discard); err == nil {
		t.Fatal("restore with neither snapshot nor bundle")
	}
	if _, err := Restore(ctx, n.opts("", otherTail), discard); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("restore from another node's bundle: %v", err)
	}
	res, err := Restore(ctx, n.opts("", tail), discard)
	if err != nil {
		t.Fatalf("restore from the bundle alone: %v", err)
	}
	if res.AuditSize != 6 || res.Tail.From != 0 || res.Tail.To != 6 || res.Mark != 6 {
		t.Fatalf("restore: %+v", res)
	}
	n.open()
	if got, _ := os.ReadFile(n.bundle()); !bytes.Equal(got, mustRead(t, tail)) {
		t.Fatal("the rebuilt log differs from the bundle")
	}
	n.append(6, 1)
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
