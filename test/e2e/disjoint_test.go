package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// TestDisjointPairs: five nodes, any two of which sign (t = 1). node1
// signs with node2 and node3 with node4: pairs that share no node, so no
// node's own view could hold a limit across them. Sweeps sent to both at
// once, together well over the 24 h limit of the sweep rule (20 BTC), are
// signed exactly up to the limit: the limit is counted by the replicated
// log, not by the pair.
func TestDisjointPairs(t *testing.T) {
	c := startClusterN(t, 5, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: time.Hour, SAFUTimelock: time.Hour}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets
	const limit = 2_000_000_000 // sweep-btc: 20 BTC per 24 h
	coldScript := append([]byte{0x00, 0x14}, btcutil.Hash160(w["btc-cold"].PubKey)...)

	type sent struct {
		id, home string
		utxo     *transferpb.UTXO
	}
	var (
		all []sent
		mu  sync.Mutex
	)
	submit := func(id, home string, amount int64) {
		u := devcluster.FakeUTXO(w["btc-hot"], amount+1_000_000)
		in := devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", amount, u)
		if _, err := cl.as(home, tr.Withdrawal).Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
			t.Errorf("submit %s at %s: %v", id, home, err)
		}
		mu.Lock()
		all = append(all, sent{id, home, u})
		mu.Unlock()
	}
	// 12 BTC through node1's pair and 2 BTC through node3's first, then
	// 16 BTC more through both pairs at once, when 6 BTC are left
	for i := range 3 {
		submit(fmt.Sprintf("first-%d", i), "node1", 400_000_000)
	}
	submit("first-3", "node3", 200_000_000)
	for i := range 4 {
		if got := cl.wait(fmt.Sprintf("first-%d", i), "signed", "denied"); got.State != "signed" {
			t.Fatalf("first-%d: %s (%s)", i, got.State, got.Reason)
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		home := []string{"node1", "node3"}[i%2]
		wg.Add(1)
		go func() { defer wg.Done(); submit(fmt.Sprintf("race-%d-%s", i, home), home, 200_000_000) }()
	}
	wg.Wait()

	var paid int64
	signedAt := map[string]int{}
	for _, s := range all {
		got := cl.wait(s.id, "signed", "denied")
		if got.State != "signed" {
			if !strings.Contains(got.Reason, "limit") {
				t.Errorf("%s denied for another reason than the limit: %s", s.id, got.Reason)
			}
			continue
		}
		verifyBTC(t, got, []*transferpb.UTXO{s.utxo})
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(got.SignedTx)); err != nil {
			t.Fatal(err)
		}
		for _, o := range tx.TxOut {
			if bytes.Equal(o.PkScript, coldScript) {
				paid += o.Value
			}
		}
		signedAt[s.home]++
	}
	t.Logf("signed at node1: %d, at node3: %d; paid to cold: %d sat (limit %d)", signedAt["node1"], signedAt["node3"], paid, limit)
	if paid != limit {
		t.Fatalf("fail/the pairs signed %d sat against a limit of %d", paid, limit)
	}

	// which nodes signed the requests homed at node3: node3 and node4 only
	signedBy := func(node, id string) bool {
		for _, l := range strings.Split(c.LogTail(node, 20000), "\n") {
			if strings.Contains(l, `"msg":"transfer signed"`) && strings.Contains(l, `"request":"`+id+`"`) {
				return true
			}
		}
		return false
	}
	pairs := map[string][2]string{"node1": {"node1", "node2"}, "node3": {"node3", "node4"}}
	for _, s := range all {
		got, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: s.id})
		if got.GetState() != "signed" {
			continue
		}
		p := pairs[s.home]
		for _, n := range []string{"node1", "node2", "node3", "node4", "node5"} {
			want := n == p[0] || n == p[1]
			if signedBy(n, s.id) != want {
				t.Errorf("%s (home %s): signed by %s is %v, want %v", s.id, s.home, n, !want, want)
			}
		}
	}

	// the limit is full to the satoshi: a small payment through node3's
	// pair (3,000 sat: large enough that its fee is inside the dev
	// policy's 10 % relative fee cap) is denied by the limit
	submit("one-more", "node3", 3000)
	if got := cl.wait("one-more", "signed", "denied"); got.State != "denied" || !strings.Contains(got.Reason, "limit") {
		t.Fatalf("fail/3000 sat over the limit: %s (%s)", got.State, got.Reason)
	}
}
