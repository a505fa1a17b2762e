package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// exampleDeployment puts a deployment's own material into the example
// policy, as an operator would: each admin's and officer's public key and
// each wallet's address (derived from the cluster's keys; `coffer wallet
// new` prints them). Every other line stays as it is, which the count of
// replaced lines proves.
func exampleDeployment(t *testing.T, example []byte, parts devcluster.PolicyParts) []byte {
	t.Helper()
	idLine := regexp.MustCompile(`^\s*- id: (\S+)$`)
	keyLine := regexp.MustCompile(`^(\s*)key: ".*"$`)
	addrLine := regexp.MustCompile(`^(\s*)addresses: \[.*\]$`)
	lines := strings.Split(string(example), "\n")
	id, replaced := "", 0
	for i, l := range lines {
		if m := idLine.FindStringSubmatch(l); m != nil {
			id = m[1]
			continue
		}
		if m := keyLine.FindStringSubmatch(l); m != nil {
			k, ok := parts.Officers[id]
			if !ok {
				k, ok = parts.Admins[id]
			}
			if !ok {
				t.Fatalf("the example names key holder %q the test did not make", id)
			}
			lines[i], replaced = m[1]+`key: "`+k+`"`, replaced+1
		}
		if m := addrLine.FindStringSubmatch(l); m != nil {
			w, ok := parts.Wallets[id]
			if !ok {
				t.Fatalf("the example names wallet %q the test did not derive", id)
			}
			lines[i], replaced = m[1]+`addresses: ["`+w.Address+`"]`, replaced+1
		}
	}
	if want := len(parts.Officers) + len(parts.Admins) + len(parts.Wallets); replaced != want {
		t.Fatalf("replaced %d lines of the example, want %d (one per key holder and wallet)", replaced, want)
	}
	return []byte(strings.Join(lines, "\n"))
}

// TestExamplePolicy runs configs/policy.example.yaml as a real cluster's
// genesis policy, with only the deployment's own keys and addresses put
// in: the withdrawal service's hot→external withdrawal to a whitelisted
// exchange is signed at once; a cold→hot refill waits for two treasury
// approvals and its 6 h timelock, and is signed once 6 h have passed on
// the nodes' clocks.
func TestExamplePolicy(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "configs", "policy.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	warp := taggedCofferd(t, "devclock") // reads COFFER_DEV_CLOCK_OFFSET
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	opts := devcluster.TreasuryOptions{
		Keys: []string{"hot-2025", "cold-2025", "safu-2025"},
		Wallets: []devcluster.WalletSpec{
			{ID: "btc-hot", Chain: "btc", Class: "hot", Key: "hot-2025"}, {ID: "btc-cold", Chain: "btc", Class: "cold", Key: "cold-2025"},
			{ID: "btc-safu", Chain: "btc", Class: "safu", Key: "safu-2025"}, {ID: "eth-hot", Chain: "eth", Class: "hot", Key: "hot-2025/1"},
			{ID: "eth-cold", Chain: "eth", Class: "cold", Key: "cold-2025/1"}, {ID: "eth-safu", Chain: "eth", Class: "safu", Key: "safu-2025/1"},
		},
		Officers: [][2]string{{"tom", "treasury"}, {"tina", "treasury"}, {"theo", "treasury"}, {"rita", "risk"}, {"raj", "risk"}},
		Admins:   []string{"admin-ana", "admin-ben", "admin-chloe"},
		Network:  "mainnet",
		ChainID:  1,
	}
	opts.Policy = func(parts devcluster.PolicyParts) ([]byte, error) { return exampleDeployment(t, example, parts), nil }
	tr, err := devcluster.SetupTreasury(ctx, c, opts, os.Stderr)
	if err != nil {
		t.Fatalf("the example policy as genesis: %v", err)
	}
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets

	var withdrawal *transferpb.Transfer
	t.Run("ok/a hot→external withdrawal to a whitelisted exchange is signed at once", func(t *testing.T) {
		const kraken = "bc1q9rn8qxu3eklgadgh7v7q2d7rf7k2gy7hcvfdx4" // the example's Kraken entry
		if !strings.Contains(string(example), kraken) {
			t.Fatalf("the example no longer whitelists %s", kraken)
		}
		in := devcluster.BTCIntent("example-withdrawal-1", w["btc-hot"], kraken, 50_000_000, devcluster.FakeUTXO(w["btc-hot"], 80_000_000))
		if _, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
			t.Fatal(err)
		}
		withdrawal = cl.wait(in.RequestId, "signed")
		if withdrawal.Rule != "withdraw-btc" {
			t.Fatalf("signed under rule %q, want withdraw-btc", withdrawal.Rule)
		}
		u := in.Btc.Utxos[0]
		if err := btc.Verify(withdrawal.SignedTx, "mainnet", []btc.UTXO{{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: u.PkScript}}); err != nil {
			t.Fatalf("the signed withdrawal does not verify: %v", err)
		}
	})
	t.Run("ok/a cold→hot refill is signed after two treasury approvals and 6 h", func(t *testing.T) {
		in := devcluster.BTCIntent("example-refill-1", w["btc-cold"], "btc-hot", 500_000_000, devcluster.FakeUTXO(w["btc-cold"], 800_000_000))
		got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: in})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "pending_approval" || got.Rule != "refill-from-cold" {
			t.Fatalf("refill: %s under %q (%s)", got.State, got.Rule, got.Reason)
		}
		for _, o := range []string{"tom", "theo"} {
			if got, err = cl.decide(o, "approve", got, got.Digest); err != nil {
				t.Fatal(err)
			}
		}
		got = cl.wait(in.RequestId, "timelocked")
		if len(got.Missing) != 1 || !strings.Contains(got.Missing[0], "timelock 6h0m0s") {
			t.Fatalf("after two approvals only the 6 h timelock should be missing: %v", got.Missing)
		}
		// 6 h pass on every node's clock (a development build that reads
		// COFFER_DEV_CLOCK_OFFSET); the approvals were recorded before
		t.Setenv("COFFER_DEV_CLOCK_OFFSET", "6h2m")
		release := c.Bin
		c.Bin = warp
		defer func() { c.Bin = release }()
		for _, n := range c.Layout.Nodes {
			c.StopNode(n.ID)
			if err := c.StartNode(ctx, n.ID); err != nil {
				t.Fatal(err)
			}
		}
		done := cl.wait(in.RequestId, "signed")
		u := in.Btc.Utxos[0]
		if err := btc.Verify(done.SignedTx, "mainnet", []btc.UTXO{{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: u.PkScript}}); err != nil {
			t.Fatalf("the signed refill does not verify: %v", err)
		}
	})
}
