package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/bench"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func newBenchTransferCmd() *cobra.Command {
	var o upOptions
	var count, conc int
	cmd := &cobra.Command{
		Use:   "transfer [--count N] [--concurrency C]",
		Short: "End-to-end hot→cold sweeps through the API (submit → gate on every signer → signature) vs. raw tss-lib signing",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 || conc < 1 || conc > count {
				return fmt.Errorf("need 1 <= concurrency <= count")
			}
			return benchTransfer(cmd.Context(), cmd.OutOrStdout(), o, count, conc)
		},
	}
	f := cmd.Flags()
	f.IntVar(&count, "count", 20, "transfers (and raw signatures)")
	f.IntVar(&conc, "concurrency", 1, "transfers in flight")
	f.StringVar(&o.preparams, "preparams", "", "pre-generated pre-parameter sets (JSON) instead of waiting for safe primes")
	f.StringVar(&o.dir, "dir", "", "cluster folder (default: a temporary one)")
	f.StringVar(&o.logLevel, "log-level", "warn", "node log level")
	return cmd
}

func benchTransfer(ctx context.Context, w io.Writer, o upOptions, count, conc int) error {
	ctss.QuietLibrary()
	o.pool = 3
	c, stopCluster, err := bringUp(ctx, w, o)
	if err != nil {
		return err
	}
	var once sync.Once
	cleanup := func() { once.Do(stopCluster) }
	defer cleanup()
	fmt.Fprintln(w, "• keys, wallets and a signed policy")
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: time.Hour, SAFUTimelock: time.Hour}, io.Discard)
	if err != nil {
		return err
	}
	l := c.Layout
	c.Stop()
	raw := &bench.RawSigner{KeyID: "hot", Threshold: 1, Signers: []string{"node1", "node2"}, Shares: map[string]*ctss.Share{}}
	for _, n := range raw.Signers {
		sh, err := l.UnsealShare(ctx, n, "hot")
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
	cl, err := l.DialAs("node1", tr.Withdrawal)
	if err != nil {
		return err
	}
	defer cl.Close()
	var seq atomic.Int64
	hot := tr.Wallets["btc-hot"]
	transferOp := func(ctx context.Context, _ int) error {
		return benchSweep(ctx, cl.Transfers, hot, fmt.Sprintf("bench-%d", seq.Add(1)))
	}
	rawOp := func(ctx context.Context, i int) error {
		return raw.Sign(ctx, signer.SelfTestDigest("hot", benchNonce(i)))
	}
	for i := 0; i < 2; i++ { // warm-up
		if err := transferOp(ctx, i); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if err := rawOp(ctx, 1_000_000+i); err != nil {
			return err
		}
	}
	chunks := 4
	if count < 4*conc {
		chunks = 1
	}
	fmt.Fprintf(w, "• %d hot→cold sweeps (1 input, 1 signature each) and %d raw signatures, concurrency %d, %d alternating chunks\n", count, count, conc, chunks)
	var rawChunks, trChunks []bench.Stats
	for k := 0; k < chunks; k++ {
		lo, hi := k*count/chunks, (k+1)*count/chunks
		phases := []func() error{
			func() error {
				s, err := bench.Run(ctx, hi-lo, conc, transferOp)
				trChunks = append(trChunks, s)
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
	rs, ts := bench.Merge(rawChunks...), bench.Merge(trChunks...)
	cl.Close()
	cleanup()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tcount\tconc\tp50 ms\tp95 ms\tmax ms\tper s\t")
	fmt.Fprintf(tw, "raw tss-lib\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t\n", rs.Count, conc, bench.Ms(rs.P50), bench.Ms(rs.P95), bench.Ms(rs.Max), rs.PerSec)
	fmt.Fprintf(tw, "transfer\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t\n", ts.Count, conc, bench.Ms(ts.P50), bench.Ms(ts.P95), bench.Ms(ts.Max), ts.PerSec)
	_ = tw.Flush()
	b, _ := json.Marshal(map[string]any{"bench": "transfer", "count": count, "concurrency": conc,
		"raw_p50_ms": round2(bench.Ms(rs.P50)), "transfer_p50_ms": round2(bench.Ms(ts.P50)),
		"ratio_p50": round2(bench.Ms(ts.P50) / bench.Ms(rs.P50)), "transfers_per_s": round2(ts.PerSec), "raw_sigs_per_s": round2(rs.PerSec)})
	fmt.Fprintln(w, string(b))
	return nil
}

// benchSweep submits a hot→cold sweep of 10,000 sat and waits until it is
// signed. Failed is retryable (the home node retries after its backoff,
// and that time counts): it waits for an end.
func benchSweep(ctx context.Context, cl transferpb.TransfersClient, hot devcluster.Wallet, id string) error {
	in := devcluster.BTCIntent(id, hot, "btc-cold", 10_000, devcluster.FakeUTXO(hot, 100_000))
	if _, err := cl.Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
		return err
	}
	t, err := devcluster.Wait(ctx, cl, id, time.Minute, "signed", "denied")
	if err == nil && t.State != "signed" {
		err = fmt.Errorf("%s ended %s: %s", id, t.State, t.Reason)
	}
	return err
}
