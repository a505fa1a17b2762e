package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/bench"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure the cluster against the raw library, in one run"}
	var o upOptions
	var count, conc, warmup int
	sign := &cobra.Command{
		Use:   "sign [--count N] [--concurrency C]",
		Short: "2-of-3 signing: raw tss-lib in one process vs. the cluster through real nodes, transport and HSMs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 || conc < 1 || conc > count {
				return fmt.Errorf("need 1 <= concurrency <= count")
			}
			return benchSign(cmd.Context(), cmd.OutOrStdout(), o, count, conc, warmup)
		},
	}
	f := sign.Flags()
	f.IntVar(&count, "count", 20, "signatures per phase")
	f.IntVar(&conc, "concurrency", 1, "signatures in flight")
	f.IntVar(&warmup, "warmup", 2, "unmeasured signatures before each phase")
	f.StringVar(&o.preparams, "preparams", "", "pre-generated pre-parameter sets (JSON) instead of waiting for safe primes")
	f.StringVar(&o.dir, "dir", "", "cluster folder (default: a temporary one)")
	f.StringVar(&o.logLevel, "log-level", "warn", "node log level")
	cmd.AddCommand(sign, newBenchTransferCmd(), newBenchHistoryCmd())
	return cmd
}

// benchDigest is the i-th message both phases sign: the self-test digest
// of a deterministic nonce, so raw and cluster sign the same digests.
func benchNonce(i int) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("coffer/bench/"), uint64(i)))
	return h[:]
}

func benchSign(ctx context.Context, w io.Writer, o upOptions, count, conc, warmup int) error {
	ctss.QuietLibrary()
	c, stopCluster, err := bringUp(ctx, w, o)
	if err != nil {
		return err
	}
	var once sync.Once
	cleanup := func() { once.Do(stopCluster) }
	defer cleanup()
	l := c.Layout
	const keyID = "bench"
	signers := []string{"node1", "node2"}
	cl, err := l.Dial("node1")
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Fprintln(w, "• keygen bench (2-of-3)")
	stream, err := cl.Operator.Keygen(ctx, &operatorpb.KeygenRequest{KeyId: keyID, Threshold: 1, Parties: []string{"node1", "node2", "node3"}})
	if err != nil {
		return err
	}
	if _, err := followProgress(io.Discard, "keygen", stream.Recv); err != nil {
		return err
	}
	// Unseal node1's and node2's shares for the raw baseline first (the
	// stores are locked while the nodes run), then restart the nodes and
	// alternate cluster and raw chunks, so both phases see the same
	// background load.
	cl.Close()
	c.Stop()
	fmt.Fprintln(w, "• nodes stopped; unsealing node1's and node2's shares with their HSM tokens for the raw baseline; nodes restarted")
	raw := &bench.RawSigner{KeyID: keyID, Threshold: 1, Signers: signers, Shares: map[string]*ctss.Share{}}
	for _, n := range signers {
		sh, err := l.UnsealShare(ctx, n, keyID)
		if err != nil {
			return err
		}
		defer sh.Zero()
		raw.Shares[n] = sh
	}
	for _, n := range l.Nodes {
		if err := c.StartNode(ctx, n.ID); err != nil {
			return err
		}
	}
	if cl, err = l.Dial("node1"); err != nil {
		return err
	}
	defer cl.Close()
	clusterOp := func(ctx context.Context, i int) error {
		_, err := cl.Operator.SelfTestSign(ctx, &operatorpb.SelfTestSignRequest{KeyId: keyID, Parties: signers, Nonce: benchNonce(i)})
		return err
	}
	rawOp := func(ctx context.Context, i int) error {
		return raw.Sign(ctx, signer.SelfTestDigest(keyID, benchNonce(i)))
	}
	for i := 0; i < warmup; i++ {
		if err := clusterOp(ctx, 1_000_000+i); err != nil {
			return fmt.Errorf("cluster warm-up: %w", err)
		}
		if err := rawOp(ctx, 1_000_000+i); err != nil {
			return fmt.Errorf("raw warm-up: %w", err)
		}
	}
	chunks := 4
	if count < 4*conc {
		chunks = 1
	}
	fmt.Fprintf(w, "• %d signatures each, by node1+node2, at concurrency %d, in %d alternating chunks:\n", count, conc, chunks)
	fmt.Fprintln(w, "  cluster: API → coordinator → peer gRPC/mTLS → each node unseals its share in its HSM")
	fmt.Fprintln(w, "  raw:     tss-lib in this process, in-memory routing, shares already in memory")
	var rawChunks, clusterChunks []bench.Stats
	for k := 0; k < chunks; k++ {
		lo, hi := k*count/chunks, (k+1)*count/chunks
		phases := []func() error{
			func() error {
				s, err := bench.Run(ctx, hi-lo, conc, func(ctx context.Context, i int) error { return clusterOp(ctx, lo+i) })
				clusterChunks = append(clusterChunks, s)
				return err
			},
			func() error {
				s, err := bench.Run(ctx, hi-lo, conc, func(ctx context.Context, i int) error { return rawOp(ctx, lo+i) })
				rawChunks = append(rawChunks, s)
				return err
			},
		}
		if k%2 == 1 {
			phases[0], phases[1] = phases[1], phases[0]
		}
		for _, ph := range phases {
			if err := ph(); err != nil {
				return err
			}
		}
	}
	rs, cs := bench.Merge(rawChunks...), bench.Merge(clusterChunks...)
	cl.Close()
	cleanup() // the JSON report must be the last line
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tcount\tconc\tp50 ms\tp95 ms\tmax ms\tsigs/s\t")
	for _, r := range []struct {
		name string
		s    bench.Stats
	}{{"raw tss-lib", rs}, {"cluster", cs}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t\n", r.name, r.s.Count, conc, bench.Ms(r.s.P50), bench.Ms(r.s.P95), bench.Ms(r.s.Max), r.s.PerSec)
	}
	_ = tw.Flush()
	out := map[string]any{
		"bench": "sign", "count": count, "concurrency": conc,
		"raw_p50_ms": round2(bench.Ms(rs.P50)), "cluster_p50_ms": round2(bench.Ms(cs.P50)),
		"ratio_p50":      round2(bench.Ms(cs.P50) / bench.Ms(rs.P50)),
		"raw_sigs_per_s": round2(rs.PerSec), "cluster_sigs_per_s": round2(cs.PerSec),
		"throughput_ratio": round2(cs.PerSec / rs.PerSec),
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(w, string(b))
	return nil
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
