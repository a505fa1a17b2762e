package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
)

func TestDecimalUnits(t *testing.T) {
	for _, tc := range []struct {
		base string
		dec  int
		want string
	}{
		{"3000000", 8, "0.03"}, {"100000000", 8, "1"}, {"123456789", 8, "1.23456789"}, {"1", 18, "0.000000000000000001"},
		{"0", 8, "0"}, {"-5", 8, "?"}, {"12x", 8, "?"},
	} {
		if got := decimalUnits(tc.base, tc.dec); got != tc.want {
			t.Errorf("decimalUnits(%s, %d) = %s, want %s", tc.base, tc.dec, got, tc.want)
		}
	}
}

func TestPrintTransferShowsWhatAnOfficerChecks(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tr := &transferpb.Transfer{RequestId: "refill-1", State: "pending_approval", Digest: bytes.Repeat([]byte{0xab}, 32),
		Rule: "refill-btc", Missing: []string{"approvals from treasury: 0 of 2", "timelock 1h0m0s until …"},
		NotBeforeUnix: now.Add(time.Hour).Unix(), SubmittedAtUnix: now.Unix(), ExpiresAtUnix: now.Add(24 * time.Hour).Unix(),
		Initiator: "withdrawal-svc",
		Summary: &transferpb.Summary{Chain: "btc", Network: "regtest", SourceWallet: "btc-cold", SourceClass: "cold", SourceAddress: "bcrt1qsrc",
			Destination: "bcrt1qdst", DestinationWallet: "btc-hot", DestinationClass: "hot", Asset: "BTC", Amount: "3000000", Fee: "282",
			Inputs: []string{"aa:0"}}}
	var out bytes.Buffer
	printTransfer(&out, tr, now)
	for _, want := range []string{
		"transfer refill-1  pending_approval", "btc-cold (cold) bcrt1qsrc", "btc-hot (hot) bcrt1qdst", "3000000 sat (0.03 BTC)",
		"fee         282 sat", "rule        refill-btc", "missing     approvals from treasury: 0 of 2", "(in 1h0m0s)",
		strings.Repeat("ab", 32), "by withdrawal-svc", "inputs aa:0",
	} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	tr.Summary.DestinationWallet, tr.Summary.DestinationClass = "", "external"
	printTransferTable(&out, []*transferpb.Transfer{tr}, now.Add(90*time.Second))
	for _, want := range []string{"btc-cold (cold) → external bcrt1qdst", "refill-btc", "1m"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// A retried request says which try it is on, and that it is retried.
func TestStateTextShowsRetries(t *testing.T) {
	for _, c := range []struct {
		tr   *transferpb.Transfer
		want string
	}{
		{&transferpb.Transfer{State: "failed", Attempts: 2}, "failed (try 2; retried after a backoff until it expires)"},
		{&transferpb.Transfer{State: "signing", Attempts: 3}, "signing (try 3)"},
		{&transferpb.Transfer{State: "signing", Attempts: 1}, "signing"},
		{&transferpb.Transfer{State: "signed", Attempts: 4}, "signed"},
	} {
		if got := stateText(c.tr); got != c.want {
			t.Errorf("%s/%d: %q", c.tr.State, c.tr.Attempts, got)
		}
	}
}
