package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cofferhq/coffer/chain/btc"
)

func runCoffer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "coffer"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDemo runs `coffer demo --out DIR` as a newcomer would (with fixture
// pre-parameters instead of waiting for safe primes), checks its story, and
// verifies every transaction of DIR/transfers.json independently with the
// chain libraries.
func TestDemo(t *testing.T) {
	outDir := t.TempDir()
	out := runCoffer(t, "demo", "--preparams", fixtureFile(t), "--dir", filepath.Join(t.TempDir(), "demo"), "--out", outDir)
	for _, want := range []string{
		"keygen hot", "policy ", "signed by admin-ana and admin-ben",
		"submits sweep-1", "→ ready (rule sweep-btc)",
		"submits refill-1", "officer tom approves", "officer tina approves", "→ timelocked",
		"submits safu-1", "officer rita approves",
		"submits eth-sweep-1",
		"→ denied: invariant: cold wallet btc-cold pays only to its pinned wallets",
		"✗ refused: approval refused: the approval is over another request digest",
		"RESULT: OK", "Demo complete.", "nodes stopped by PID",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "✓ signed by the gate of two nodes"); n != 4 {
		t.Fatalf("%d signed transfers in the demo, want 4:\n%s", n, out)
	}
	raw, err := os.ReadFile(filepath.Join(outDir, "transfers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var txs []struct {
		RequestID      string `json:"request_id"`
		Chain          string `json:"chain"`
		RawTx          string `json:"raw_tx"`
		Network        string `json:"network"`
		ChainID        uint64 `json:"chain_id"`
		ExpectedSender string `json:"expected_sender"`
		Prevouts       []struct {
			TxID     string `json:"txid"`
			Vout     uint32 `json:"vout"`
			Amount   int64  `json:"amount"`
			PkScript string `json:"pk_script"`
		} `json:"prevouts"`
	}
	if err := json.Unmarshal(raw, &txs); err != nil || len(txs) != 4 {
		t.Fatalf("transfers.json: %d entries, %v", len(txs), err)
	}
	for _, tx := range txs {
		b, err := hex.DecodeString(tx.RawTx)
		if err != nil {
			t.Fatal(err)
		}
		switch tx.Chain {
		case "btc":
			var ps []btc.UTXO
			for _, p := range tx.Prevouts {
				script, _ := hex.DecodeString(p.PkScript)
				ps = append(ps, btc.UTXO{TxID: p.TxID, Vout: p.Vout, Amount: p.Amount, PkScript: script})
			}
			if err := btc.Verify(b, tx.Network, ps); err != nil {
				t.Fatalf("%s: script engine: %v", tx.RequestID, err)
			}
		case "eth":
			var signed types.Transaction
			if err := signed.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			from, err := types.Sender(types.LatestSignerForChainID(new(big.Int).SetUint64(tx.ChainID)), &signed)
			if err != nil || !strings.EqualFold(from.Hex(), tx.ExpectedSender) || signed.ChainId().Uint64() != tx.ChainID {
				t.Fatalf("%s: sender %s (%v), want %s on chain %d", tx.RequestID, from.Hex(), err, tx.ExpectedSender, tx.ChainID)
			}
		default:
			t.Fatalf("%s: chain %q", tx.RequestID, tx.Chain)
		}
	}
}

// TestBenchSignReportsJSON runs a tiny `coffer bench sign` and checks the
// report's last line (figures are measured by `make bench`, not asserted).
func TestBenchSignReportsJSON(t *testing.T) {
	out := runCoffer(t, "bench", "sign", "--count", "2", "--concurrency", "1", "--warmup", "0", "--preparams", fixtureFile(t),
		"--dir", filepath.Join(t.TempDir(), "bench"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	var report map[string]float64
	if err := json.Unmarshal([]byte(last), &report); err != nil {
		var loose map[string]any
		if json.Unmarshal([]byte(last), &loose) != nil {
			t.Fatalf("no JSON report in:\n%s", out)
		}
		report = map[string]float64{}
		for k, v := range loose {
			if f, ok := v.(float64); ok {
				report[k] = f
			}
		}
	}
	for _, k := range []string{"raw_p50_ms", "cluster_p50_ms", "ratio_p50", "raw_sigs_per_s", "cluster_sigs_per_s"} {
		if report[k] <= 0 {
			t.Fatalf("report lacks a positive %s: %s", k, last)
		}
	}
}

// TestBenchTransferReportsJSON runs a tiny `coffer bench transfer` and
// checks its last line (figures come from `make bench`).
func TestBenchTransferReportsJSON(t *testing.T) {
	out := runCoffer(t, "bench", "transfer", "--count", "2", "--preparams", fixtureFile(t), "--dir", filepath.Join(t.TempDir(), "bt"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var report map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &report); err != nil {
		t.Fatalf("last line is not JSON:\n%s", out)
	}
	for _, k := range []string{"raw_p50_ms", "transfer_p50_ms", "ratio_p50", "transfers_per_s"} {
		if v, ok := report[k].(float64); !ok || v <= 0 {
			t.Fatalf("report lacks a positive %s: %s", k, lines[len(lines)-1])
		}
	}
}

// coffer bench history runs the whole measure on a small history and
// prints one JSON line per size whose figures come from the run: the
// decisions counted the past spends inside the window, the pass looked at
// the refills left open, the store holds the history.
func TestBenchHistoryReportsJSON(t *testing.T) {
	out := runCoffer(t, "bench", "history", "--spends", "300", "--span", "24h", "--open", "2", "--idle", "2s",
		"--decisions", "200", "--pages", "6", "--preparams", fixtureFile(t))
	var report map[string]float64
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "{") {
			if err := json.Unmarshal([]byte(l), &report); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
		}
	}
	if report == nil {
		t.Fatalf("no JSON line:\n%s", out)
	}
	for _, k := range []string{"decision_p50_us", "decision_p99_us", "scheduler_pass_ms", "list_page_ms", "store_bytes"} {
		if report[k] <= 0 {
			t.Fatalf("report lacks a positive %s: %v", k, report)
		}
	}
	// the 300 past spends lie inside the 24 h window, with the 6 live sweeps
	// but the one decided
	if report["spends"] != 300 || report["in_window"] < 300 || report["scheduler_open"] != 2 ||
		report["idle_cpu_fraction"] < 0 || report["idle_cpu_fraction"] > 2 {
		t.Fatalf("report: %v", report)
	}
}
