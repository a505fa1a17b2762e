package ledger

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentReservations races many goroutines for one outpoint or
// nonce (or one transfer): exactly one reservation may win.
func TestConcurrentReservations(t *testing.T) {
	const n = 32
	tests := []struct {
		name    string
		id      func(i int) string
		reserve func(i int) Command
	}{
		{"ok/one outpoint, many transfers", func(i int) string { return fmt.Sprintf("t%d", i) },
			func(i int) Command {
				return reserveCmd(fmt.Sprintf("t%d", i), "s", fmt.Sprintf("own%d:0", i), "shared:0")
			}},
		{"ok/one nonce, many transfers", func(i int) string { return fmt.Sprintf("e%d", i) },
			func(i int) Command { return reserveETHCmd(fmt.Sprintf("e%d", i), "s", "1/0xhot#9") }},
		{"ok/one transfer, many sessions", func(int) string { return "t1" },
			func(i int) Command { return reserveCmd("t1", fmt.Sprintf("s%d", i), fmt.Sprintf("own%d:0", i)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			for i := range n {
				if _, err := s.Apply(submit(tc.id(i), StateReady)); err != nil {
					t.Fatal(err)
				}
			}
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					_, errs[i] = s.Apply(tc.reserve(i))
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, ErrConflict):
					t.Fatalf("a losing reservation failed with %v, want ErrConflict", err)
				}
			}
			spends, err := s.Spends(time.Time{})
			if won != 1 || err != nil || len(spends) != 1 {
				t.Fatalf("%d reservations won, %d spends (%v); want exactly one", won, len(spends), err)
			}
			checkInvariants(t, s)
		})
	}
}
