package ledger

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "node.db"), Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rec(id string, gen uint32) KeyRecord {
	pub := bytes.Repeat([]byte{2}, 33)
	return KeyRecord{ID: id, PublicKey: pub, Threshold: 1, Generation: gen,
		Committee:   []Member{{Node: "n1", PartyKey: []byte{1}}, {Node: "n2", PartyKey: []byte{2}}},
		SealedShare: []byte("sealed")}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		run  func(s *Store) error
		want error
	}{
		{"ok/put then get", func(s *Store) error {
			if err := s.PutKey(rec("k", 0)); err != nil {
				return err
			}
			got, err := s.Key("k")
			if err != nil {
				return err
			}
			if got.ID != "k" || !bytes.Equal(got.SealedShare, []byte("sealed")) {
				return errors.New("round trip mismatch")
			}
			return nil
		}, nil},
		{"ok/replace with next generation", func(s *Store) error {
			_ = s.PutKey(rec("k", 0))
			return s.ReplaceKey(rec("k", 1))
		}, nil},
		{"fail/put twice", func(s *Store) error {
			_ = s.PutKey(rec("k", 0))
			return s.PutKey(rec("k", 0))
		}, ErrKeyExists},
		{"fail/missing key", func(s *Store) error { _, err := s.Key("nope"); return err }, ErrKeyNotFound},
		{"fail/replace skips a generation", func(s *Store) error {
			_ = s.PutKey(rec("k", 0))
			return s.ReplaceKey(rec("k", 2))
		}, ErrGeneration},
		{"fail/replace changes public key", func(s *Store) error {
			_ = s.PutKey(rec("k", 0))
			r := rec("k", 1)
			r.PublicKey = bytes.Repeat([]byte{3}, 33)
			return s.ReplaceKey(r)
		}, ErrGeneration},
		{"fail/threshold too high", func(s *Store) error {
			r := rec("k", 0)
			r.Threshold = 2
			return s.PutKey(r)
		}, ErrInvalid},
		{"fail/short public key", func(s *Store) error {
			r := rec("k", 0)
			r.PublicKey = []byte{2}
			return s.PutKey(r)
		}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(openTemp(t))
			if tc.want == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPreParamsPoolHandsOutEachOnce(t *testing.T) {
	s := openTemp(t)
	for _, b := range []string{"a", "b", "c"} {
		if err := s.AddPreParams([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.PreParamsCount(); n != 3 {
		t.Fatalf("count = %d, want 3", n)
	}
	for _, want := range []string{"a", "b", "c"} {
		got, err := s.TakePreParams()
		if err != nil || string(got) != want {
			t.Fatalf("take = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := s.TakePreParams(); !errors.Is(err, ErrPoolEmpty) {
		t.Fatalf("take from empty pool: %v", err)
	}
	if err := s.AddPreParams(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("add empty: %v", err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := Open(path, Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(path, Options{LockTimeout: 50e6}, log); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestReadOnlyOpenRefusesAForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := Open(path, Options{ReadOnly: true}, log); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a bbolt file without ledger buckets opened read-only: %v", err)
	}
	s, err := Open(path, Options{}, log) // writable: buckets are created
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s, err = Open(path, Options{ReadOnly: true}, log)
	if err != nil {
		t.Fatalf("a ledger file refused read-only: %v", err)
	}
	if _, err := s.Keys(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}
