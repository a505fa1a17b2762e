package signer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/internal/storecheck"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/api"
	"github.com/cofferhq/coffer/signer/gate"
)

// damageKeyRecord rewrites the key record of id in the store's keys
// bucket with edit (as a misbehaving disk would change its bytes).
func damageKeyRecord(t *testing.T, n *Node, id string, edit func(v []byte) []byte) {
	t.Helper()
	err := n.store.DB().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("keys"))
		return b.Put([]byte(id), edit(bytes.Clone(b.Get([]byte(id)))))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDamagedSealedShareIsLoggedAsDamage flips a byte of a stored sealed
// share: the node logs ERROR naming the bucket and key, and the error is
// store damage (a peer is told "node store damaged"), not a bad intent.
func TestDamagedSealedShareIsLoggedAsDamage(t *testing.T) {
	n, _, _, _ := gateNode(t)
	var logs bytes.Buffer
	n.log = slog.New(slog.NewTextHandler(&logs, nil))
	damageKeyRecord(t, n, "k1", func(v []byte) []byte {
		var rec ledger.KeyRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			t.Fatal(err)
		}
		rec.SealedShare[len(rec.SealedShare)-3] ^= 0x01 // in the GCM tag
		out, _ := json.Marshal(rec)
		return out
	})
	rec, err := n.store.Key("k1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.openShare(context.Background(), rec.ID, rec.Generation, rec.SealedShare, rec.PublicKey)
	if !errors.Is(err, ErrStoreDamaged) {
		t.Fatalf("open damaged share: %v, want ErrStoreDamaged", err)
	}
	if got := classifyErr(err); got != api.KindDamaged {
		t.Errorf("classified as %v, want KindDamaged", got)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "bucket=keys") || !strings.Contains(out, "key=k1") {
		t.Fatalf("no ERROR naming bucket keys, key k1; logs:\n%s", out)
	}
}

// TestUndecodableRecordIsDamageNotInvalidInput: a key record that is not
// JSON any more is reported as store damage (ERROR with bucket and key
// here, "node store damaged" to the caller), not as the caller's input.
func TestUndecodableRecordIsDamageNotInvalidInput(t *testing.T) {
	n, _, _, _ := gateNode(t)
	var logs bytes.Buffer
	n.log = slog.New(slog.NewTextHandler(&logs, nil))
	damageKeyRecord(t, n, "k1", func(v []byte) []byte { v[0] ^= 0x20; return v })
	_, err := n.store.Key("k1")
	if !errors.Is(err, ledger.ErrCorrupt) {
		t.Fatalf("read damaged record: %v, want ledger.ErrCorrupt", err)
	}
	if got := n.classify(err); got != api.KindDamaged {
		t.Fatalf("classified as %v, want KindDamaged", got)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "bucket=keys") || !strings.Contains(out, "key=k1") {
		t.Fatalf("no ERROR naming bucket keys, key k1; logs:\n%s", out)
	}
	if got := classifyErr(gate.IntentErr("amount too large")); got != api.KindInvalid {
		t.Errorf("a bad intent is classified as %v, want KindInvalid", got)
	}
}

// TestDamagedShareRefusesStart: the check at start opens each sealed
// share once; a whole one passes, a flipped byte in a blob or a record
// that no longer decodes is damage naming the file, the bucket and the
// key, and the node does not start.
func TestDamagedShareRefusesStart(t *testing.T) {
	n, _, _, _ := gateNode(t)
	if err := n.checkShares(context.Background()); err != nil {
		t.Fatalf("check of whole shares: %v", err)
	}
	flip := func(v []byte) []byte {
		var rec ledger.KeyRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			t.Fatal(err)
		}
		rec.SealedShare[len(rec.SealedShare)/2] ^= 0x01
		out, _ := json.Marshal(rec)
		return out
	}
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"fail/a flipped byte in a sealed share", flip, "bucket keys, key k1: the sealed share (generation"},
		{"fail/a key record that does not decode", func(v []byte) []byte { v[0] ^= 0x20; return v }, "bucket keys"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before []byte
			damageKeyRecord(t, n, "k1", func(v []byte) []byte { before = bytes.Clone(v); return c.edit(v) })
			defer damageKeyRecord(t, n, "k1", func([]byte) []byte { return before })
			err := n.checkShares(context.Background())
			if !errors.Is(err, storecheck.ErrDamaged) || !strings.Contains(err.Error(), n.store.Path()) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("check: %v, want damage naming %s and %q", err, n.store.Path(), c.want)
			}
		})
	}
}
