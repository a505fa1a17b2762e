package ledger

import (
	"fmt"
	"slices"
	"testing"
)

// Pages cover every transfer once, newest first, within a time range.
func TestTransferPages(t *testing.T) {
	s := openTB(t)
	const n = 250
	for i := range n {
		tr := newTransfer(fmt.Sprintf("t%03d", i), StateReady)
		tr.SubmittedAt = at(i)
		if _, err := s.Apply(submitCmd(tr)); err != nil {
			t.Fatal(err)
		}
	}
	walk := func(f PageFilter) (ids []string, pages int) {
		for {
			p, err := s.TransferPage(f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, tr := range p.Transfers {
				ids = append(ids, tr.ID)
			}
			if p.Next == nil {
				return ids, pages
			}
			f.After = p.Next
		}
	}
	ids, pages := walk(PageFilter{TransferFilter: TransferFilter{Limit: 100}})
	if len(ids) != n || pages != 3 || ids[0] != "t249" || ids[n-1] != "t000" {
		t.Fatalf("%d transfers in %d pages, first %s last %s", len(ids), pages, ids[0], ids[len(ids)-1])
	}
	if !slices.IsSortedFunc(ids, func(a, b string) int { return -compare(a, b) }) || len(slices.Compact(slices.Clone(ids))) != n {
		t.Fatal("pages repeat or reorder transfers")
	}
	ids, _ = walk(PageFilter{TransferFilter: TransferFilter{Limit: 7}, Since: at(100), Until: at(150)})
	if len(ids) != 50 || ids[0] != "t149" || ids[49] != "t100" {
		t.Fatalf("range [100, 150): %d transfers, %v … %v", len(ids), ids[0], ids[len(ids)-1])
	}
	p, err := s.TransferPage(PageFilter{})
	if err != nil || len(p.Transfers) != DefaultPage || p.Next == nil {
		t.Fatalf("default page: %d transfers, next %x, %v", len(p.Transfers), p.Next, err)
	}
	if _, err := s.TransferPage(PageFilter{After: []byte("short")}); err == nil {
		t.Fatal("a malformed cursor was taken")
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
