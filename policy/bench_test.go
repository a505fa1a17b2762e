package policy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// p99Budget is the acceptance bound for one decision (issue 4).
const p99Budget = 50 * time.Microsecond

// BenchmarkEvaluate measures one decision with 10,000 whitelist entries,
// 200 rules (the request reaches the last) and 10,000 spends in the
// windows, and reports the p50 and p99 latency over the runs. It fails if
// p99 exceeds 50 µs.
func BenchmarkEvaluate(b *testing.B) {
	w := pt.NewLarge(10_000, 200, 10_000)
	p := w.Fixture.Policy(b)
	st := pt.State(b, w.Snapshot)
	d := policy.Evaluate(p, st, w.Request, w.Now)
	if d.Effect != policy.EffectAllow || d.Rule != "small" || len(d.Trace) < 200 {
		b.Fatalf("workload decision %s by %q: %s", d.Effect, d.Rule, d.Reason)
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		d = policy.Evaluate(p, st, w.Request, w.Now)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	if d.Effect != policy.EffectAllow {
		b.Fatal("decision changed")
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	b.ReportMetric(float64(q(0.50).Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(q(0.99).Nanoseconds())/1000, "p99-µs")
	b.Logf("runs %d p50 %v p90 %v p99 %v max %v", len(lat), q(0.5), q(0.9), q(0.99), lat[len(lat)-1])
	if len(lat) >= 100 && q(0.99) > p99Budget {
		b.Errorf("p99 %v over the %v budget (%d runs)", q(0.99), p99Budget, len(lat))
	}
}

// BenchmarkNewState measures indexing the workload's snapshot (10,000
// spends, 1,004 approvals), which the ledger does when its state changes,
// not per decision.
func BenchmarkNewState(b *testing.B) {
	w := pt.NewLarge(10_000, 200, 10_000)
	for b.Loop() {
		if _, err := policy.NewState(w.Snapshot); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures validating and compiling the workload's policy.
func BenchmarkLoad(b *testing.B) {
	w := pt.NewLarge(10_000, 200, 10_000)
	for b.Loop() {
		if _, err := policy.New(w.Fixture.Doc); err != nil {
			b.Fatal(err)
		}
	}
}
