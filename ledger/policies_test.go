package ledger

import (
	"errors"
	"testing"
	"time"
)

func TestPolicyVersions(t *testing.T) {
	s := openTemp(t)
	if got, err := s.Policies(); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, h := range []string{"aa", "bb"} {
		if err := s.AppendPolicy(PolicyVersion{Document: []byte("v"), Signatures: [][]byte{{byte(i)}}, At: at, Hash: h}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Policies()
	if err != nil || len(got) != 2 || got[0].Hash != "aa" || got[1].Hash != "bb" {
		t.Fatalf("order: %+v %v", got, err)
	}
	if err := s.AppendPolicy(PolicyVersion{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty version accepted: %v", err)
	}
}

func TestMeta(t *testing.T) {
	s := openTemp(t)
	if v, err := s.Meta("k"); err != nil || v != "" {
		t.Fatalf("absent: %q %v", v, err)
	}
	if err := s.SetMeta("k", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Meta("k"); v != "v1" {
		t.Fatalf("got %q", v)
	}
}
