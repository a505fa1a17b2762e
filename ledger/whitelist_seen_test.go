package ledger

import (
	"testing"
	"time"
)

func TestWhitelistSeen(t *testing.T) {
	s := openTemp(t)
	a := WhitelistEntryKey{Whitelist: "partners", Address: "bcrt1qa"}
	b := WhitelistEntryKey{Whitelist: "partners", Address: "bcrt1qb"}
	t1 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if n, err := s.MarkWhitelistSeen([]WhitelistEntryKey{a}, t1); err != nil || n != 1 {
		t.Fatalf("first mark: %d %v", n, err)
	}
	// a later sight keeps the first; a new entry gets the later time
	if n, err := s.MarkWhitelistSeen([]WhitelistEntryKey{a, b}, t1.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("second mark: %d %v", n, err)
	}
	for k, want := range map[WhitelistEntryKey]time.Time{a: t1, b: t1.Add(time.Hour)} {
		if got, ok, err := s.WhitelistSeen(k); err != nil || !ok || !got.Equal(want) {
			t.Fatalf("%v seen %s %v %v, want %s", k, got, ok, err, want)
		}
	}
	if _, ok, _ := s.WhitelistSeen(WhitelistEntryKey{Whitelist: "partner", Address: "sbcrt1qa"}); ok {
		t.Fatal("keys run together: another entry reads as seen")
	}
	// an entry a version dropped is forgotten, and seen anew when listed again
	if n, err := s.ForgetWhitelistSeen([]WhitelistEntryKey{b}); err != nil || n != 1 {
		t.Fatalf("forget: %d %v", n, err)
	}
	if _, ok, _ := s.WhitelistSeen(a); ok {
		t.Fatal("a dropped entry is still seen")
	}
	if _, err := s.MarkWhitelistSeen([]WhitelistEntryKey{{Whitelist: "partners"}}, t1); err == nil {
		t.Fatal("an entry without an address was recorded")
	}
}
