package ledger

import (
	"errors"
	"fmt"
	"testing"
)

func seeded(i int) Transfer {
	tr := newTransfer(fmt.Sprintf("h%04d", i), StateSigned)
	tr.SubmittedAt = at(i)
	sp := spendOf(tr.ID)
	sp.At = at(i + 1)
	tr.Reservation = &Reservation{Session: []byte("s" + tr.ID), At: sp.At, Outpoints: []string{fmt.Sprintf("%064x:0", i)}, Spend: sp}
	tr.Result = &Result{Session: tr.Reservation.Session, SignedTx: []byte("tx"), TxHash: "h", At: at(i + 2)}
	return *tr
}

// Seeded history reads as if the log had written it: the transfer, its
// place in the pages, its spend in the windows, the input it consumed;
// a batch with one bad transfer writes nothing.
func TestSeedHistory(t *testing.T) {
	s := openTB(t)
	var batch []Transfer
	for i := range 100 {
		batch = append(batch, seeded(i))
	}
	if err := s.SeedHistory(batch); err != nil {
		t.Fatal(err)
	}
	got, err := s.Transfer("h0042")
	if err != nil || got.State != StateSigned || got.Result == nil {
		t.Fatalf("%+v %v", got, err)
	}
	p, err := s.TransferPage(PageFilter{TransferFilter: TransferFilter{Limit: 10}})
	if err != nil || len(p.Transfers) != 10 || p.Transfers[0].ID != "h0099" {
		t.Fatalf("page: %v %v", p.Transfers, err)
	}
	sp, err := s.Spends(at(90))
	if err != nil || len(sp) != 11 { // spends at 90..100
		t.Fatalf("spends since 90: %d %v", len(sp), err)
	}
	h, err := s.Holders([]string{fmt.Sprintf("%064x:0", 7)}, "")
	if err != nil || len(h) != 1 {
		t.Fatalf("holders: %v %v", h, err)
	}
	ids, err := s.OpenTransferIDs("n1")
	if err != nil || len(ids) != 0 {
		t.Fatalf("signed history is open: %v %v", ids, err)
	}
	bad := []Transfer{seeded(200), seeded(5)} // h0005 exists
	if err := s.SeedHistory(bad); !errors.Is(err, ErrConflict) {
		t.Fatalf("a taken ID: %v", err)
	}
	unsigned := seeded(300)
	unsigned.State = StateReady
	if err := s.SeedHistory([]Transfer{seeded(201), unsigned}); err == nil {
		t.Fatal("an unsigned transfer was seeded")
	}
	for _, id := range []string{"h0200", "h0201"} {
		if _, err := s.Transfer(id); !errors.Is(err, ErrTransferNotFound) {
			t.Fatalf("%s written by a refused batch: %v", id, err)
		}
	}
}
