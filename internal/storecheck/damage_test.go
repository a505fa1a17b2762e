package storecheck

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
)

// Helpers that build a node's store in a temp dir and damage it as a
// misbehaving disk would: a flipped byte, a flipped page pointer, a cut
// file, a damaged meta page.

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const pageHeader = 16 // bbolt page header: id, flags, count, overflow

// testNode opens the store at path with its audit log (identity key from
// a fixed seed).
func openNode(t testing.TB, path string) (*ledger.Store, *audit.Log, error) {
	t.Helper()
	st, err := ledger.Open(path, ledger.Options{LockTimeout: time.Second}, discard)
	if err != nil {
		return nil, nil, err
	}
	ks, err := hsmtest.NewMemoryWithKeys(bytes.Repeat([]byte{1}, 32), ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.New(audit.Config{Cluster: "t", Node: "node1"}, audit.Deps{DB: st.DB(), Identity: ks.Identity(), Logger: discard})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, l, nil
}

func record(i int) audit.Record {
	return audit.Record{Kind: audit.KindTransferSubmitted, Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Transfer: &audit.TransferSubmitted{RequestID: fmt.Sprintf("req-%07d", i), RequestDigest: sha256.Sum256([]byte(fmt.Sprint("request-", i))),
			Wallet: "hot-btc", Destination: "cold-btc", Asset: "BTC", Amount: "150000000", Chain: "btc",
			PolicyHash: sha256.Sum256([]byte("policy")), Expiry: time.Date(2025, 1, 2, 4, 4, 5, 0, time.UTC), Initiator: "withdrawal-service"}}
}

// appendN appends n records in batches of up to 1,000 (the last one
// alone, so the file's newest transaction is one audit batch).
func appendN(t testing.TB, l *audit.Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; {
		k := min(1000, from+n-1-i)
		if k == 0 {
			k = 1
		}
		recs := make([]audit.Record, 0, k)
		for j := range k {
			recs = append(recs, record(i+j))
		}
		if _, err := l.AppendAll(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		i += k
	}
}

// buildStore makes a node's store of n audit entries in a temp dir.
func buildStore(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node.db")
	st, l, err := openNode(t, path)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 0, n)
	l.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// flipInFile flips a bit of the first occurrence of find in the file.
func flipInFile(t testing.TB, path string, find []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, find)
	if i < 0 || bytes.Index(b[i+1:], find) >= 0 {
		t.Fatalf("%q is not once in %s", find, path)
	}
	b[i+len(find)-1] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// pageOf returns the page size and the root page of a bucket.
func rootPage(t testing.TB, path, bucket string) (pageSize int, root uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil) // writable: tx.Page needs the free list
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte(bucket)).Root())
		info, err := tx.Page(int(root))
		if err != nil || info == nil || info.Type != "branch" {
			return fmt.Errorf("root page %d of %s: %+v, %v, want a branch page", root, bucket, info, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db.Info().PageSize, root
}

// setChildPointer sets the child page id of element i of a branch page.
func setChildPointer(t testing.TB, path string, pageSize int, page uint64, i int, to uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// branch element: pos uint32, ksize uint32, pgid uint64
	off := int64(page)*int64(pageSize) + pageHeader + int64(i)*16 + 8
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint64(nil, to), off); err != nil {
		t.Fatal(err)
	}
}

// damageNewestMeta flips a byte in the meta page with the greater
// transaction id, so that bbolt opens the previous transaction.
func damageNewestMeta(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.LittleEndian.Uint32(b[pageHeader+8:]))
	txid := func(p int) uint64 { return binary.LittleEndian.Uint64(b[p*pageSize+pageHeader+48:]) }
	newest := 0
	if txid(1) > txid(0) {
		newest = 1
	}
	b[newest*pageSize+pageHeader+24] ^= 0x10 // the root bucket's page id
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func cutFile(t testing.TB, path string, keep float64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(float64(fi.Size())*keep)/4096*4096); err != nil {
		t.Fatal(err)
	}
}
