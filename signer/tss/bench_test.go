package tss

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"
)

// The cost of constant-time arithmetic, measured in one run: each
// iteration runs the same work once with tss-lib's variable-time math/big
// paths (what v2 always ran) and once constant-time (what every Coffer
// process runs), alternating so both share the machine's background load.
// Sessions are built with constant-time on (the adapter refuses otherwise)
// and the mode is switched only for the run itself.

func withMode(constant bool, f func()) {
	if !constant {
		disableConstantTime()
		defer enableConstantTime()
	}
	f()
}

func reportPair(b *testing.B, what string, variable, constant []time.Duration) {
	p50 := func(ds []time.Duration) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[len(s)/2].Microseconds()) / 1000
	}
	v, c := p50(variable), p50(constant)
	b.ReportMetric(v, what+"_variable_p50_ms")
	b.ReportMetric(c, what+"_constant_p50_ms")
	b.ReportMetric(c/v, what+"_constant/variable")
	b.ReportMetric(0, "ns/op") // the pair of figures is the result
}

// BenchmarkSignConstantTimeCost: a 2-of-3 signature, in process.
func BenchmarkSignConstantTimeCost(b *testing.B) {
	k := keygenInProcess(b, fixtures(b), "bench", []string{"n1", "n2", "n3"}, 1)
	var variable, constant []time.Duration
	for i := 0; b.Loop(); i++ {
		for _, ct := range []bool{i%2 == 0, i%2 != 0} {
			d := sha256.Sum256(fmt.Appendf(nil, "bench %d %v", i, ct))
			net := signSessions(b, k, []string{"n1", "n2"}, nil, d)
			var took time.Duration
			withMode(ct, func() {
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				out := runAll(ctx, net, []string{"n1", "n2"})
				cancel()
				took = time.Since(start)
				if out["n1"].err != nil || out["n2"].err != nil {
					b.Fatalf("sign: %v %v", out["n1"].err, out["n2"].err)
				}
			})
			if ct {
				constant = append(constant, took)
			} else {
				variable = append(variable, took)
			}
		}
	}
	reportPair(b, "sign", variable, constant)
}

// BenchmarkKeygenConstantTimeCost: a 2-of-3 keygen with pooled
// pre-parameters, in process.
func BenchmarkKeygenConstantTimeCost(b *testing.B) {
	pps := fixtures(b)
	var variable, constant []time.Duration
	for i := 0; b.Loop(); i++ {
		for _, ct := range []bool{i%2 == 0, i%2 != 0} {
			net := newMemNet()
			nodes := []string{"n1", "n2", "n3"}
			for j, n := range nodes {
				s, err := NewKeygen(KeygenConfig{SessionID: fmt.Appendf(nil, "kg %d %v", i, ct), Cluster: "bench", Self: n,
					KeyID: "bench", Threshold: 1, Nodes: nodes, PreParams: pps[j], Confirm: testConfirmer{n}, Log: discard})
				if err != nil {
					b.Fatal(err)
				}
				net.add(n, s)
			}
			var took time.Duration
			withMode(ct, func() {
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				out := runAll(ctx, net, nodes)
				cancel()
				took = time.Since(start)
				for _, n := range nodes {
					if out[n].err != nil {
						b.Fatalf("keygen: %v", out[n].err)
					}
				}
			})
			if ct {
				constant = append(constant, took)
			} else {
				variable = append(variable, took)
			}
		}
	}
	reportPair(b, "keygen", variable, constant)
}

// BenchmarkPreParamsConstantTimeCost: one pre-parameter set (safe primes;
// the time varies widely from set to set, so run it several times).
func BenchmarkPreParamsConstantTimeCost(b *testing.B) {
	var variable, constant []time.Duration
	for i := 0; b.Loop(); i++ {
		for _, ct := range []bool{i%2 == 0, i%2 != 0} {
			var took time.Duration
			withMode(ct, func() {
				start := time.Now()
				pp, err := GeneratePreParams(context.Background(), 2)
				took = time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				ZeroPreParams(pp)
			})
			if ct {
				constant = append(constant, took)
			} else {
				variable = append(variable, took)
			}
		}
	}
	reportPair(b, "preparams", variable, constant)
}
