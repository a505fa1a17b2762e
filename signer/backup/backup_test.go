package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/ledger"
)

// aad is the associated data signer/seal.go binds sealed blobs to
// (purpose, cluster, node, key ID, generation), rebuilt here so the test
// seals what a node seals.
func aad(purpose, cluster, node, keyID string, gen uint32) []byte {
	b := []byte("coffer/seal/v1")
	for _, f := range []string{purpose, cluster, node, keyID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint32(b, gen)
}

// sealedNode fills a store as node id's would be after a keygen: one key
// with its share sealed by ks, and two sealed pre-parameter sets. It
// returns the plaintexts.
func sealedNode(t *testing.T, ks hsm.Keystore, st *ledger.Store, id string) (share []byte, pre [][]byte) {
	t.Helper()
	ctx := context.Background()
	share = make([]byte, 700)
	rand.Read(share)
	sealed, err := ks.Seal(ctx, aad("share", "dev", id, "hot-1", 0), share)
	if err != nil {
		t.Fatal(err)
	}
	rec := ledger.KeyRecord{ID: "hot-1", PublicKey: bytes.Repeat([]byte{2}, 33), Threshold: 1, CreatedAt: time.Now(),
		Committee:   []ledger.Member{{Node: "node1", PartyKey: []byte{1}}, {Node: "node2", PartyKey: []byte{2}}, {Node: "node3", PartyKey: []byte{3}}},
		SealedShare: sealed}
	if err := st.PutKey(rec); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		p := make([]byte, 3000)
		rand.Read(p)
		b, err := ks.Seal(ctx, aad("preparams", "dev", id, "", 0), p)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddPreParams(b); err != nil {
			t.Fatal(err)
		}
		pre = append(pre, p)
	}
	return share, pre
}

// TestBackupWipeRestore is the acceptance at the library level: a node's
// sealed share and pre-parameters go to Vault KV v2 (versioned), the
// store is wiped, and the restored store's blobs unseal to the same bytes
// with the node's keystore.
func TestBackupWipeRestore(t *testing.T) {
	ctx := context.Background()
	ks := nodeKeystore(t)
	path := filepath.Join(t.TempDir(), "node.db")
	st := openStore(t, path)
	share, pre := sealedNode(t, ks, st, "node1")
	kv := kvAt(t, "vault://secret/coffer/restore/node1", "")
	n1 := Node{Cluster: "dev", ID: "node1", IdentityKey: "ab"}

	r1, err := Backup(ctx, st, n1, kv, time.Now())
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	r2, err := Backup(ctx, st, n1, kv, time.Now())
	if err != nil || r2.Version != r1.Version+1 || r2.Keys != 1 || r2.PreParams != 2 {
		t.Fatalf("second Backup = %+v, %v; want the next version, 1 key, 2 pre-parameter sets", r2, err)
	}
	// Nothing in Vault is plaintext.
	s, err := env.srv.Root().Logical().Read("secret/data/coffer/restore/node1")
	if err != nil || s == nil {
		t.Fatal(err)
	}
	raw, _ := s.Data["data"].(map[string]any)
	if raw["node"] != "node1" || raw["format"] != Format {
		t.Fatalf("stored backup = %v", raw)
	}

	// Wipe the store.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	fresh := openStore(t, path)
	r, err := Restore(ctx, fresh, n1, kv, 0)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if r.Version != r2.Version || r.Keys != 1 || r.PreParams != 2 {
		t.Fatalf("Restore = %+v", r)
	}
	rec, err := fresh.Key("hot-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ks.Open(ctx, aad("share", "dev", "node1", "hot-1", 0), rec.SealedShare)
	if err != nil || !bytes.Equal(got, share) {
		t.Fatalf("restored share: Open = %d bytes, %v; want the sealed share", len(got), err)
	}
	for i, want := range pre {
		b, err := fresh.TakePreParams()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ks.Open(ctx, aad("preparams", "dev", "node1", "", 0), b)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("restored pre-parameter set %d: %v", i, err)
		}
	}

	t.Run("fail/store not fresh", func(t *testing.T) {
		before, _ := fresh.Sealed()
		if _, err := Restore(ctx, fresh, n1, kv, 0); !errors.Is(err, ledger.ErrNotFresh) {
			t.Fatalf("Restore into a store with keys: %v", err)
		}
		after, _ := fresh.Sealed()
		if len(after.Keys) != len(before.Keys) || len(after.PreParams) != len(before.PreParams) {
			t.Fatal("a refused restore changed the store")
		}
	})
	t.Run("ok/an older version", func(t *testing.T) {
		r, err := Restore(ctx, tempStore(t), n1, kv, r1.Version)
		if err != nil || r.Version != r1.Version {
			t.Fatalf("Restore version %d = %+v, %v", r1.Version, r, err)
		}
	})
}

// TestRestoreIntoWrongNode: restore refuses a backup of another node, and a
// backup edited in Vault to pass that check still does not unseal on the
// other node, nor as the other node on the same HSM: the AAD binds the node.
func TestRestoreIntoWrongNode(t *testing.T) {
	ctx := context.Background()
	ks1, ks2 := nodeKeystore(t), nodeKeystore(t)
	st1 := tempStore(t)
	sealedNode(t, ks1, st1, "node1")
	kv1 := kvAt(t, "vault://secret/coffer/wrong/node1", "")
	if _, err := Backup(ctx, st1, Node{Cluster: "dev", ID: "node1"}, kv1, time.Now()); err != nil {
		t.Fatal(err)
	}
	n2 := Node{Cluster: "dev", ID: "node2"}

	t.Run("fail/restore refuses another node's backup", func(t *testing.T) {
		st2 := tempStore(t)
		_, err := Restore(ctx, st2, n2, kv1, 0)
		if !errors.Is(err, ErrWrongNode) {
			t.Fatalf("Restore: %v, want ErrWrongNode", err)
		}
		if s, _ := st2.Sealed(); len(s.Keys)+len(s.PreParams) != 0 {
			t.Fatal("a refused restore wrote")
		}
		other := Node{Cluster: "prod", ID: "node1"}
		if _, err := Restore(ctx, tempStore(t), other, kv1, 0); !errors.Is(err, ErrWrongNode) {
			t.Fatalf("Restore into another cluster: %v, want ErrWrongNode", err)
		}
	})
	t.Run("fail/an edited backup does not unseal on the wrong node", func(t *testing.T) {
		doc, _, err := kv1.Get(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		forged, err := newDocument(n2, doc.Sealed(), time.Now()) // claims node2, digest recomputed
		if err != nil {
			t.Fatal(err)
		}
		kv2 := kvAt(t, "vault://secret/coffer/wrong/node2", "")
		if _, err := kv2.Put(ctx, forged); err != nil {
			t.Fatal(err)
		}
		st2 := tempStore(t)
		if _, err := Restore(ctx, st2, n2, kv2, 0); err != nil {
			t.Fatalf("Restore of the edited backup: %v", err)
		}
		rec, err := st2.Key("hot-1")
		if err != nil {
			t.Fatal(err)
		}
		node2AAD := aad("share", "dev", "node2", "hot-1", 0)
		if pt, err := ks2.Open(ctx, node2AAD, rec.SealedShare); !errors.Is(err, hsm.ErrUnseal) || pt != nil {
			t.Fatalf("node2's HSM opened node1's share: %v", err)
		}
		if pt, err := ks1.Open(ctx, node2AAD, rec.SealedShare); !errors.Is(err, hsm.ErrUnseal) || pt != nil {
			t.Fatalf("node1's share opened as node2's on node1's HSM: %v", err)
		}
		p, err := st2.TakePreParams()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ks2.Open(ctx, aad("preparams", "dev", "node2", "", 0), p); !errors.Is(err, hsm.ErrUnseal) {
			t.Fatalf("node2's HSM opened node1's pre-parameters: %v", err)
		}
	})
}
