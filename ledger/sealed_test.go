package ledger

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealedRoundTrip(t *testing.T) {
	src := openTemp(t)
	for _, id := range []string{"hot-1", "cold-1"} {
		if err := src.PutKey(rec(id, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"pp-1", "pp-2", "pp-3"} {
		if err := src.AddPreParams([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := src.Sealed()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Keys) != 2 || got.Keys[0].ID != "cold-1" || len(got.PreParams) != 3 || string(got.PreParams[0]) != "pp-1" {
		t.Fatalf("Sealed = %+v", got)
	}
	if n, _ := src.PreParamsCount(); n != 3 {
		t.Fatalf("Sealed took from the pool: %d left", n)
	}

	dst := openTemp(t)
	if err := dst.RestoreSealed(got); err != nil {
		t.Fatalf("RestoreSealed: %v", err)
	}
	again, err := dst.Sealed()
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Keys) != 2 || !bytes.Equal(again.Keys[1].SealedShare, got.Keys[1].SealedShare) {
		t.Fatalf("restored keys = %+v", again.Keys)
	}
	for _, want := range []string{"pp-1", "pp-2", "pp-3"} { // oldest first, as taken
		p, err := dst.TakePreParams()
		if err != nil || string(p) != want {
			t.Fatalf("TakePreParams = %q, %v; want %q", p, err, want)
		}
	}
}

func TestRestoreSealedChangesNothingOnError(t *testing.T) {
	bad := rec("bad", 0)
	bad.PublicKey = nil
	tests := []struct {
		name    string
		prepare func(s *Store)
		in      Sealed
		want    error
	}{
		{"fail/store holds a key", func(s *Store) { _ = s.PutKey(rec("other", 0)) },
			Sealed{Keys: []KeyRecord{rec("k", 0)}}, ErrNotFresh},
		{"fail/store holds pre-params", func(s *Store) { _ = s.AddPreParams([]byte("x")) },
			Sealed{Keys: []KeyRecord{rec("k", 0)}}, ErrNotFresh},
		{"fail/invalid record", func(*Store) {},
			Sealed{Keys: []KeyRecord{rec("k", 0), bad}, PreParams: [][]byte{[]byte("p")}}, ErrInvalid},
		{"fail/empty pre-params", func(*Store) {},
			Sealed{Keys: []KeyRecord{rec("k", 0)}, PreParams: [][]byte{[]byte("p"), nil}}, ErrInvalid},
		{"fail/repeated key", func(*Store) {},
			Sealed{Keys: []KeyRecord{rec("k", 0), rec("k", 1)}, PreParams: [][]byte{[]byte("p")}}, ErrKeyExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			tc.prepare(s)
			before, _ := s.Sealed()
			if err := s.RestoreSealed(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("RestoreSealed = %v, want %v", err, tc.want)
			}
			after, _ := s.Sealed()
			if len(after.Keys) != len(before.Keys) || len(after.PreParams) != len(before.PreParams) {
				t.Fatalf("a refused restore wrote: before %+v, after %+v", before, after)
			}
		})
	}
}
