package gate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// BenchmarkGateDecision measures one gate decision as the gate makes it —
// the transfer read from the ledger, when this node saw it, the limit
// totals from the spend book, and policy.Evaluate — with 1,000 and
// 1,000,000 other spends recorded, every one inside the policy's windows
// (the worst case: none can be skipped by time) and counted by all three
// limits of the rule. It reports p50 and p99 in µs; the two sizes should
// cost about the same.
func BenchmarkGateDecision(b *testing.B) {
	for _, spends := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("spends=%d", spends), func(b *testing.B) {
			f := newFixture(b)
			now := time.Now().UTC()
			bt, tr := f.sweep(b, "r1", 100_000, now)
			if err := f.g.spends.cover(f.pv.Window); err != nil {
				b.Fatal(err)
			}
			// the spends reach the book the way the ledger reports them
			for i := range spends {
				f.g.spends.SpendAdded("past-"+strconv.Itoa(i), ledger.Spend{At: now.Add(-time.Duration(i%3000) * time.Second),
					Source: "btc-hot", To: bt.To, Rule: "sweep", Asset: "BTC", Amount: "1000"})
			}
			d, _, err := f.g.Decide(f.pv, bt, tr, now)
			if err != nil {
				b.Fatal(err)
			}
			want := fmt.Sprintf("%d transfers incl. this one", spends+1)
			if !d.Allowed() || !slices.ContainsFunc(d.Trace, func(l string) bool { return strings.Contains(l, want) }) {
				b.Fatalf("the decision does not count the %d spends: %s %v", spends, d.Effect, d.Trace)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				t, err := f.store.Transfer(tr.ID)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := f.g.Decide(f.pv, bt, t, now); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50_µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99_µs")
		})
	}
}
