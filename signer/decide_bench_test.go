package signer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/ledger"
)

// BenchmarkGateDecision measures one gate decision as the gate makes it —
// the transfer and its approvals read from the ledger, when this node saw
// it, the limit totals from the spend book, and policy.Evaluate — with
// 1,000 and 1,000,000 other spends recorded, every one inside the policy's
// windows (the worst case: none can be skipped by time) and counted by
// all three limits of the rule. It reports p50 and p99 in µs; the two
// sizes should cost about the same.
func BenchmarkGateDecision(b *testing.B) {
	for _, spends := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("spends=%d", spends), func(b *testing.B) {
			n, _, _, hotPub := gateNode(b)
			ctx := context.Background()
			now := time.Now().UTC()
			utxo := &transferpb.UTXO{Txid: strings.Repeat("ab", 32), Vout: 0, Amount: 500_000,
				PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(hotPub)...)}
			in := &transferpb.Intent{RequestId: "r1", SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "100000",
				Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
			tr, err := n.submitTransfer(ctx, in, "svc", "withdrawal", now)
			if err != nil {
				b.Fatal(err)
			}
			pv, err := n.activePolicy(now)
			if err != nil {
				b.Fatal(err)
			}
			bt, err := n.rebuild(pv, tr)
			if err != nil {
				b.Fatal(err)
			}
			if err := n.spends.cover(pv.window); err != nil {
				b.Fatal(err)
			}
			// the spends reach the book the way the ledger reports them
			for i := range spends {
				n.spends.SpendAdded("past-"+strconv.Itoa(i), ledger.Spend{At: now.Add(-time.Duration(i%3000) * time.Second),
					Source: "btc-hot", To: bt.to, Rule: "sweep", Asset: "BTC", Amount: "1000"})
			}
			d, _, err := n.decide(pv, bt, tr, now)
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
				t, err := n.store.Transfer(tr.ID)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := n.decide(pv, bt, t, now); err != nil {
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
