package bench

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Stats summarizes one measured phase.
type Stats struct {
	Count    int
	Wall     time.Duration
	P50, P95 time.Duration
	Max      time.Duration
	PerSec   float64
	Lat      []time.Duration
}

// Merge combines chunks of one phase measured at different times.
func Merge(chunks ...Stats) Stats {
	var lat []time.Duration
	var wall time.Duration
	for _, c := range chunks {
		lat = append(lat, c.Lat...)
		wall += c.Wall
	}
	return summarize(lat, wall)
}

func summarize(lat []time.Duration, wall time.Duration) Stats {
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	pct := func(p float64) time.Duration { return sorted[int(p*float64(len(sorted)-1))] }
	return Stats{Count: len(lat), Wall: wall, P50: pct(0.5), P95: pct(0.95), Max: sorted[len(sorted)-1],
		PerSec: float64(len(lat)) / wall.Seconds(), Lat: lat}
}

// Run calls op count times from conc goroutines and times each call.
func Run(ctx context.Context, count, conc int, op func(ctx context.Context, i int) error) (Stats, error) {
	lat := make([]time.Duration, count)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= count || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if firstErr != nil {
		return Stats{}, firstErr
	}
	return summarize(lat, wall), nil
}

// Ms is a duration in milliseconds.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
