package storecheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// BenchmarkCheck measures the whole check a node runs at every start
// (bbolt's consistency check after reading every key, and every audit
// entry rehashed against the signed checkpoint) on a store of 10,000 and
// 1,000,000 audit entries.
func BenchmarkCheck(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			start := time.Now()
			path := buildStore(b, size)
			b.Logf("built %d entries in %v", size, time.Since(start).Round(time.Millisecond))
			b.ResetTimer()
			var rep Report
			for b.Loop() {
				var err error
				if rep, err = Check(context.Background(), path, Options{}, discard); err != nil || rep.AuditEntries != uint64(size) {
					b.Fatalf("Check: %v (%d entries)", err, rep.AuditEntries)
				}
			}
			b.ReportMetric(rep.Took.Seconds(), "s/check")
			b.ReportMetric(float64(rep.Bytes)/(1<<20), "MiB")
		})
	}
}

// BenchmarkCheckHistory measures the check at start on a store that also
// holds a long ledger history: 1,000,000 signed transfers (each about the
// size of a real one: intent, signed transaction, reservation, spend) and
// 10,000 audit entries.
func BenchmarkCheckHistory(b *testing.B) {
	const n = 1_000_000
	start := time.Now()
	path := buildStore(b, 10_000)
	st, err := ledger.Open(path, ledger.Options{LockTimeout: time.Second}, discard)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	intent, signedTx := bytes.Repeat([]byte{'i'}, 180), bytes.Repeat([]byte{'t'}, 220)
	batch := make([]ledger.Transfer, 0, 10_000)
	for i := range n {
		id := fmt.Sprintf("past-%08d", i)
		t := at.Add(time.Duration(i) * 30 * time.Second)
		d := sha256.Sum256([]byte(id))
		spend := ledger.Spend{At: t, Source: "btc-hot", To: "btc-cold", Rule: "sweep", Asset: "BTC", Amount: "1000"}
		batch = append(batch, ledger.Transfer{ID: id, Digest: d[:], Home: "node1", Initiator: "svc", InitiatorRole: "withdrawal",
			Source: "btc-hot", Chain: "btc", Asset: "BTC", Amount: "1000", To: "btc-cold", Intent: intent, PolicyHash: "p",
			SubmittedAt: t, ExpiresAt: t.Add(24 * time.Hour), State: ledger.StateSigned, Rule: "sweep",
			Reservation: &ledger.Reservation{Session: d[:16], At: t, Outpoints: []string{fmt.Sprintf("%x:0", d)}, Spend: spend, Holders: []string{"node1", "node2"}},
			Result:      &ledger.Result{Session: d[:16], SignedTx: signedTx, TxHash: fmt.Sprintf("%x", d), At: t}, Attempts: 1, UpdatedAt: t})
		if len(batch) == cap(batch) {
			if err := st.SeedHistory(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d transfers in %v", n, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var rep Report
	for b.Loop() {
		if rep, err = Check(context.Background(), path, Options{}, discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(rep.Took.Seconds(), "s/check")
	b.ReportMetric(float64(rep.Bytes)/(1<<20), "MiB")
	b.ReportMetric(float64(rep.Keys), "keys")
}
