package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// historyOptions say what history each node gets and what is measured.
type historyOptions struct {
	sizes     []int
	span      time.Duration // the past spends spread over it, the newest a minute ago
	open      int           // refills left waiting for officers (the scheduler's work)
	idle      time.Duration // how long idle CPU is measured
	decisions int           // gate decisions timed
	pages     int           // List pages timed, a third from each of three points in the history
}

func newBenchHistoryCmd() *cobra.Command {
	var o upOptions
	var h historyOptions
	var sizes string
	cmd := &cobra.Command{
		Use:   "history --spends N[,M…]",
		Short: "A node with N past transfers: gate decision, scheduler pass, idle CPU, List page and store size (one JSON line per N)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range strings.Split(sizes, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 0 || n > 10_000_000 {
					return fmt.Errorf("--spends: %q is not a count from 0 to 10,000,000", f)
				}
				h.sizes = append(h.sizes, n)
			}
			if h.span < time.Hour || h.open < 0 || h.open > 1000 || h.idle < time.Second || h.decisions < 100 {
				return fmt.Errorf("need --span ≥ 1h, 0 ≤ --open ≤ 1000, --idle ≥ 1s, --decisions ≥ 100")
			}
			ctss.QuietLibrary()
			for _, n := range h.sizes {
				if err := benchHistory(cmd.Context(), cmd.OutOrStdout(), o, h, n); err != nil {
					return fmt.Errorf("%d spends: %w", n, err)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sizes, "spends", "1000", "past spends per node, a comma-separated list")
	f.DurationVar(&h.span, "span", 365*24*time.Hour, "the past spends spread evenly over this time (24h: every one inside the limits' window)")
	f.IntVar(&h.open, "open", 20, "refills left open, waiting for officers")
	f.DurationVar(&h.idle, "idle", 30*time.Second, "idle CPU measured over this time")
	f.IntVar(&h.decisions, "decisions", 5000, "gate decisions timed")
	f.IntVar(&h.pages, "pages", 60, "List pages of 100 timed through the API")
	f.StringVar(&o.preparams, "preparams", "", "pre-generated pre-parameter sets (JSON) instead of waiting for safe primes")
	f.StringVar(&o.logLevel, "log-level", "warn", "node log level")
	return cmd
}

// benchHistory runs one size: a fresh cluster, a few real sweeps, open
// refills, n past signed sweeps written into every stopped node's ledger,
// then the measures: idle CPU and List pages on the running cluster, gate
// decisions and scheduler passes on node1's own code and store.
func benchHistory(ctx context.Context, w io.Writer, o upOptions, h historyOptions, n int) error {
	o.pool = 3
	c, stopCluster, err := bringUp(ctx, w, o)
	if err != nil {
		return err
	}
	defer stopCluster()
	fmt.Fprintln(w, "• keys, wallets and a signed policy (the sweep rule's count limit raised for the history)")
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: time.Hour, SAFUTimelock: time.Hour,
		PolicyEdit: raiseSweepLimits}, io.Discard)
	if err != nil {
		return err
	}
	cl, err := c.Layout.DialAs("node1", tr.Withdrawal)
	if err != nil {
		return err
	}
	defer cl.Close()
	hot, cold := tr.Wallets["btc-hot"], tr.Wallets["btc-cold"]
	sweep := func(id string) error { return benchSweep(ctx, cl.Transfers, hot, id) }
	live := []string{"live-1", "live-2", "live-3"}
	for _, id := range live {
		if err := sweep(id); err != nil {
			return err
		}
	}
	for i := range h.open {
		id := fmt.Sprintf("refill-%d", i)
		in := devcluster.BTCIntent(id, cold, "btc-hot", 50_000, devcluster.FakeUTXO(cold, 100_000))
		if _, err := cl.Transfers.Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
			return err
		}
	}
	cl.Close()
	c.Stop()

	fmt.Fprintf(w, "• %d past signed sweeps written into each node's ledger, spread over %s\n", n, h.span)
	started := time.Now()
	for _, node := range c.Layout.Nodes {
		if err := c.Layout.WithNode(node.ID, func(cfg *signer.Config, d signer.Deps) error {
			return seedHistory(d.Store, hot, n, h.span, started)
		}); err != nil {
			return fmt.Errorf("seed %s: %w", node.ID, err)
		}
	}
	fmt.Fprintf(w, "  written in %s\n", time.Since(started).Round(time.Second))
	for _, node := range c.Layout.Nodes {
		if err := c.StartNode(ctx, node.ID); err != nil {
			return err
		}
	}
	if cl, err = c.Layout.DialAs("node1", tr.Withdrawal); err != nil {
		return err
	}
	defer cl.Close()
	// the cluster signs with its history in place (these decisions count
	// every past spend inside the window)
	for _, id := range []string{"live-4", "live-5", "live-6"} {
		if err := sweep(id); err != nil {
			return fmt.Errorf("with %d past spends: %w", n, err)
		}
		live = append(live, id)
	}
	fmt.Fprintf(w, "• idle for %s (no requests; %d refills wait for officers)\n", h.idle, h.open)
	time.Sleep(5 * time.Second) // settle after the last session
	idle, err := idleCPU(ctx, w, c, h.idle)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "• List pages through the API")
	pages, err := listPages(ctx, cl.Transfers, h.span, max(h.pages/3, 1))
	if err != nil {
		return err
	}
	cl.Close()
	c.Stop()

	fmt.Fprintf(w, "• %d gate decisions and 20 scheduler passes on node1's own code and store\n", h.decisions)
	var dec, pass []time.Duration
	var inWindow, looked int
	var storeBytes int64
	err = c.Layout.WithNode("node1", func(cfg *signer.Config, d signer.Deps) error {
		fi, err := os.Stat(cfg.Store.Path)
		if err != nil {
			return err
		}
		storeBytes = fi.Size()
		p, err := signer.OpenProbe(cfg, d)
		if err != nil {
			return err
		}
		for i := range h.decisions + h.decisions/10 { // the first tenth warms up
			took, dc, err := p.Decide(live[i%len(live)])
			if err != nil {
				return err
			}
			if !dc.Allowed() {
				return fmt.Errorf("a past sweep is not allowed now: %s", dc.Reason)
			}
			if i == 0 {
				inWindow = countedSpends(dc.Trace)
			}
			if i >= h.decisions/10 {
				dec = append(dec, took)
			}
		}
		for range 20 {
			took, k := p.Pass(ctx)
			pass, looked = append(pass, took), k
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(dec)
	slices.Sort(pass)
	pct := func(s []time.Duration, p float64) time.Duration { return s[int(p*float64(len(s)-1))] }
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()/100) / 10 }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()/10) / 100 }
	b, _ := json.Marshal(map[string]any{
		"spends": n, "span_h": h.span.Hours(), "in_window": inWindow,
		"decision_p50_us": us(pct(dec, 0.5)), "decision_p99_us": us(pct(dec, 0.99)),
		"scheduler_pass_ms": ms(pct(pass, 0.5)), "scheduler_open": looked,
		"idle_cpu_fraction": idle, "list_page_ms": ms(pct(pages, 0.99)), "list_page_p50_ms": ms(pct(pages, 0.5)),
		"store_bytes": storeBytes,
	})
	fmt.Fprintln(w, string(b))
	return nil
}

// raiseSweepLimits lets the sweep rule count a long history: its 24 h
// count limit of 50 would deny every sweep of a busy hot wallet.
func raiseSweepLimits(doc []byte) ([]byte, error) {
	old := []byte(`{scope: rule, window: 24h, max_amount: "2000000000", max_count: 50}`)
	if bytes.Count(doc, old) < 1 {
		return nil, fmt.Errorf("bench history: the development policy has no sweep limit to raise")
	}
	return bytes.Replace(doc, old, []byte(`{scope: rule, window: 24h, max_amount: "2000000000000", max_count: 100000000}`), 1), nil
}

// seedHistory writes n signed sweeps of 1,000 sat from hot to the cold
// wallet, spread evenly over span and ending a minute before now, each
// with its own intent, input and spend, in batches of 10,000.
func seedHistory(st *ledger.Store, hot devcluster.Wallet, n int, span time.Duration, now time.Time) error {
	tmpl, err := st.Transfer("live-1")
	if err != nil {
		return err
	}
	newest := now.Add(-time.Minute)
	batch := make([]ledger.Transfer, 0, 10_000)
	for i := range n {
		id := fmt.Sprintf("past-%08d", i)
		at := newest.Add(-time.Duration(float64(span) * float64(n-1-i) / float64(n)))
		utxo := devcluster.FakeUTXO(hot, 100_000)
		canon, err := proto.MarshalOptions{Deterministic: true}.Marshal(devcluster.BTCIntent(id, hot, "btc-cold", 1_000, utxo))
		if err != nil {
			return err
		}
		digest := sha256.Sum256(canon)
		spend := ledger.Spend{At: at, Source: tmpl.Source, To: tmpl.To, Rule: tmpl.Rule, Asset: "BTC", Amount: "1000"}
		t := ledger.Transfer{ID: id, Digest: digest[:], Home: tmpl.Home, Initiator: tmpl.Initiator, InitiatorRole: tmpl.InitiatorRole,
			Source: tmpl.Source, Chain: "btc", Asset: "BTC", Amount: "1000", To: tmpl.To, Intent: canon, PolicyHash: tmpl.PolicyHash,
			SubmittedAt: at.Add(-2 * time.Second), ExpiresAt: at.Add(24 * time.Hour), State: ledger.StateSigned, Rule: tmpl.Rule,
			Reservation: &ledger.Reservation{Session: digest[:16], At: at, Outpoints: []string{utxo.Txid + ":0"}, Spend: spend,
				Holders: []string{"node1", "node2"}},
			Result:   &ledger.Result{Session: digest[:16], SignedTx: tmpl.Result.SignedTx, TxHash: fmt.Sprintf("%x", digest), At: at.Add(time.Second)},
			Attempts: 1, UpdatedAt: at.Add(time.Second)}
		batch = append(batch, t)
		if len(batch) == cap(batch) || i == n-1 {
			if err := st.SeedHistory(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// countedSpends reads how many transfers the decision's limit counted
// from its trace ("… N transfers incl. this one").
func countedSpends(trace []string) int {
	for _, l := range trace {
		if i := strings.Index(l, " transfers incl. this one"); i > 0 {
			f := strings.Fields(l[:i])
			if k, err := strconv.Atoi(f[len(f)-1]); err == nil {
				return k - 1
			}
		}
	}
	return -1
}

// idleCPU is the most CPU any node used over d, as a fraction of one core,
// read from /proc/PID/stat (user + system time).
func idleCPU(ctx context.Context, w io.Writer, c *devcluster.Cluster, d time.Duration) (float64, error) {
	before := map[string]float64{}
	for _, n := range c.Layout.Nodes {
		t, err := cpuSeconds(c.PID(n.ID))
		if err != nil {
			return 0, err
		}
		before[n.ID] = t
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(d):
	}
	wall := time.Since(start).Seconds()
	worst := 0.0
	for _, n := range c.Layout.Nodes {
		t, err := cpuSeconds(c.PID(n.ID))
		if err != nil {
			return 0, err
		}
		worst = max(worst, (t-before[n.ID])/wall)
		fmt.Fprintf(w, "  %s: %.2f%% of a core\n", n.ID, 100*(t-before[n.ID])/wall)
	}
	return float64(int(worst*10000)) / 10000, nil
}

// cpuSeconds is a process's user plus system time (/proc/PID/stat fields
// 14 and 15, in clock ticks of 1/100 s).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// the command name (field 2) may hold spaces: count from after it
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return float64(u+s) / 100, nil
}

// listPages times pages of 100 through the API, each cursor after the
// one before: each from the newest, from the middle of the history (a
// time range) and from its start.
func listPages(ctx context.Context, cl transferpb.TransfersClient, span time.Duration, each int) ([]time.Duration, error) {
	var out []time.Duration
	for _, until := range []time.Time{{}, time.Now().Add(-span / 2), time.Now().Add(-span + time.Hour)} {
		req := &transferpb.ListRequest{Limit: 100}
		if !until.IsZero() {
			req.UntilUnix = until.Unix()
		}
		for range each {
			start := time.Now()
			resp, err := cl.List(ctx, req)
			if err != nil {
				return nil, err
			}
			out = append(out, time.Since(start))
			if resp.NextCursor == "" {
				break
			}
			req.Cursor = resp.NextCursor
		}
	}
	slices.Sort(out)
	return out, nil
}
