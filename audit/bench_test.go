package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
)

// BenchmarkAppend measures durable appends per second from 1 and 64
// concurrent goroutines (group commit), with the identity key in memory
// and in SoftHSM. Every append is committed and fsynced before it returns.
func BenchmarkAppend(b *testing.B) {
	for _, backend := range []string{"memory", "softhsm"} {
		for _, goroutines := range []int{1, 64} {
			b.Run(fmt.Sprintf("hsm=%s/goroutines=%d", backend, goroutines), func(b *testing.B) {
				var ks hsm.Keystore = memKS(1)
				if backend == "softhsm" {
					ks = softHSM(b)
				}
				n := newTestNode(b, "bench", ks)
				rec := decisionRec(1, EffectAllow)
				ctx := context.Background()
				b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
				var failed atomic.Int64
				b.ResetTimer()
				start := time.Now()
				if goroutines == 1 {
					for range b.N {
						if _, err := n.log.Append(ctx, rec); err != nil {
							failed.Add(1)
						}
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := n.log.Append(ctx, rec); err != nil {
								failed.Add(1)
							}
						}
					})
				}
				elapsed := time.Since(start)
				b.StopTimer()
				if failed.Load() > 0 {
					b.Fatalf("%d appends failed", failed.Load())
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
				b.ReportMetric(float64(n.log.Size())/float64(countCheckpoints(b, n)-1), "records/batch")
			})
		}
	}
}

// BenchmarkVerify measures Verify of one node's bundle (read from a file,
// streaming) of 10,000 and 1,000,000 entries: five records per signed
// request (submission, approval, decision, session, signature), one
// signed checkpoint per 10,000-entry batch. Building the log is not timed.
func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			path, trust := buildBenchBundle(b, size)
			fi, _ := os.Stat(path)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				bundle, err := ReadBundle(path, f)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := Verify(context.Background(), []*Bundle{bundle}, trust, nil)
				f.Close()
				if err != nil || rep.Nodes[0].Entries != uint64(size) {
					b.Fatalf("Verify: %v", err)
				}
			}
			perOp := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(perOp, "s/verify")
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/verify")
			b.ReportMetric(float64(size)/perOp, "entries/s")
			b.ReportMetric(float64(fi.Size())/1e6, "bundle-MB")
		})
	}
}

// cpuTime is the process's user and system CPU time (all threads): with
// other processes on the machine, it shows the cost apart from the wait.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildBenchBundle builds a log of size entries with bulk appends of
// 10,000 records and exports it to a file.
func buildBenchBundle(b *testing.B, size int) (string, *Trust) {
	b.Helper()
	start := time.Now()
	n := newTestNode(b, "bench", memKS(1))
	fillBench(b, n, size)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.bundle")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.log.Export(ctx, f); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("built and exported %d entries in %v", n.log.Size(), time.Since(start).Round(time.Millisecond))
	return path, trustOf(b, 0, 0, n)
}

// fillBench appends size entries (transfer flows) to n's log in batches of
// 10,000: one commit and one signed checkpoint per batch.
func fillBench(b *testing.B, n *testNode, size int) {
	b.Helper()
	ctx := context.Background()
	const batch = 10_000
	recs := make([]Record, 0, batch)
	for i := 0; len(recs) > 0 || int(n.log.Size()) < size; i++ {
		if int(n.log.Size())+len(recs) < size {
			flow := []Record{transferRec(i), approvalRec(i), decisionRec(i, EffectAllow), sessionRec(i, "bench"), signatureRec(i, 0, "bench")}
			recs = append(recs, flow[:min(len(flow), size-int(n.log.Size())-len(recs))]...)
		}
		if len(recs) >= batch || int(n.log.Size())+len(recs) >= size {
			if _, err := n.log.AppendAll(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

// BenchmarkCheckStored measures CheckStored (every entry rehashed against
// the latest signed checkpoint, as at a node's start and in `cofferd store
// check`) over 10,000 and 1,000,000 entries in the node's bbolt file.
func BenchmarkCheckStored(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			n := newTestNode(b, "bench", memKS(1))
			fillBench(b, n, size)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for b.Loop() {
				got, err := n.log.Verify(context.Background())
				if err != nil || got.Size != uint64(size) {
					b.Fatalf("Verify: %v (size %d)", err, got.Size)
				}
			}
			perOp := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(perOp, "s/check")
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/check")
			b.ReportMetric(float64(size)/perOp, "entries/s")
		})
	}
}
