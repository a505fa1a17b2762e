package e2e

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/ledger"
)

// TestAttacks is the attack suite of DESIGN.md §8 on three real nodes: each
// attack fails, and the refusing node logs why.
func TestAttacks(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 40 * time.Second, SAFUTimelock: 40 * time.Second}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets
	submitAt := func(node string, in *transferpb.Intent) *transferpb.Transfer {
		t.Helper()
		got, err := cl.as(node, tr.Withdrawal).Submit(ctx, &transferpb.SubmitRequest{Intent: in})
		if err != nil {
			t.Fatalf("submit %s: %v", in.RequestId, err)
		}
		return got
	}
	submit := func(in *transferpb.Intent) *transferpb.Transfer { t.Helper(); return submitAt("node1", in) }
	// a refill with no approvals, and one approved but inside its
	// timelock, both homed on node3 (which is then compromised: a home
	// coordinator may start their sessions, and still gets no signature)
	_ = submitAt("node3", devcluster.BTCIntent("refill-pending", w["btc-cold"], "btc-hot", 1_000_000, devcluster.FakeUTXO(w["btc-cold"], 2_000_000)))
	locked := submitAt("node3", devcluster.BTCIntent("refill-locked", w["btc-cold"], "btc-hot", 1_000_000, devcluster.FakeUTXO(w["btc-cold"], 2_000_000)))
	for _, o := range []string{"tom", "tina"} {
		if _, err := cl.decide(o, "approve", locked, locked.Digest); err != nil {
			t.Fatal(err)
		}
	}
	other := submit(devcluster.BTCIntent("sweep-x", w["btc-hot"], "btc-cold", 100_000, devcluster.FakeUTXO(w["btc-hot"], 500_000)))

	t.Run("compromised coordinator", func(t *testing.T) {
		withCompromisedNode3(t, c, func(p peerpb.PeerClient, rlog rogueLog) {
			invite := func(id string) error {
				attempt := make([]byte, 16)
				_, _ = rand.Read(attempt)
				spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_TRANSFER, KeyId: "cold", Parties: []string{"node1", "node3"},
					RequestId: id, Attempt: attempt, Coordinator: "node3", DeadlineUnixMs: time.Now().Add(20 * time.Second).UnixMilli()}
				sid, _ := sessionID(spec)
				_, err := p.Prepare(ctx, &peerpb.PrepareRequest{SessionId: sid, Spec: spec})
				return err
			}
			for _, tc := range []struct{ name, id, why string }{
				{"fail/invites a signature whose approvals are missing", "refill-pending", "pending"},
				{"fail/invites a signature before the timelock ends", "refill-locked", "timelock"},
				{"fail/invites a signature for a request nobody submitted", "made-up-digest", "not found"},
				{"fail/starts the session of a request homed on another node", "sweep-x", "may not start its session"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := invite(tc.id)
					if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.why) {
						t.Fatalf("node1 prepared: %v", err)
					}
					if !loggedRefusal(c, "node1", tc.id) {
						t.Fatal("node1 did not log the refusal")
					}
				})
			}
			t.Run("fail/asks for a self-test signature with a wallet key", func(t *testing.T) {
				nonce := make([]byte, 32)
				_, _ = rand.Read(nonce)
				spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_SIGN, KeyId: "cold", Parties: []string{"node1", "node3"}, SelftestNonce: nonce,
					Attempt: nonce[:16], Coordinator: "node3", DeadlineUnixMs: time.Now().Add(20 * time.Second).UnixMilli()}
				sid, _ := sessionID(spec)
				_, err := p.Prepare(ctx, &peerpb.PrepareRequest{SessionId: sid, Spec: spec})
				if err == nil || !strings.Contains(err.Error(), "backs wallet") {
					t.Fatalf("node1 prepared a self-test with the cold wallet's key: %v", err)
				}
			})
			// What node3 puts in the replicated log, every node checks
			// itself when it applies it: each forgery below is refused by
			// every node alike and changes nothing.
			unchanged := func(t *testing.T, id string, want *transferpb.Transfer, approvals int) {
				t.Helper()
				time.Sleep(time.Second) // the entry is applied everywhere by then
				for _, n := range []string{"node1", "node2"} {
					got, err := cl.as(n, tr.Withdrawal).Get(ctx, &transferpb.GetRequest{RequestId: id})
					if err != nil || string(got.Digest) != string(want.Digest) || len(got.Approvals) != approvals {
						t.Fatalf("%s: %s changed: %v %v", n, id, got, err)
					}
					if !strings.Contains(c.LogTail(n, 400), "log entry refused") {
						t.Fatalf("%s did not log the refusal", n)
					}
				}
			}
			t.Run("fail/logs another transaction under an approved request's ID", func(t *testing.T) {
				swapped := devcluster.BTCIntent("refill-locked", w["btc-cold"], "btc-hot", 1_900_000, devcluster.FakeUTXO(w["btc-cold"], 2_000_000))
				intent, _ := proto.MarshalOptions{Deterministic: true}.Marshal(swapped)
				now := time.Now().UTC()
				forged := &ledger.Transfer{ID: "refill-locked", Digest: make([]byte, 32), Home: "node3", Initiator: "withdrawal-svc",
					InitiatorRole: "withdrawal", Source: "btc-cold", Chain: "btc", Asset: "BTC", Amount: "1900000", To: "x",
					Intent: intent, PolicyHash: "p", SubmittedAt: now, ExpiresAt: now.Add(time.Hour), State: ledger.StateReady}
				if err := rlog(ledger.Command{Kind: ledger.CmdSubmit, At: now, Submit: forged}); err != nil {
					t.Fatal(err)
				}
				unchanged(t, "refill-locked", locked, 2)
			})
			t.Run("fail/logs an approval signed for another request", func(t *testing.T) {
				pending, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "refill-pending"})
				now := time.UnixMilli(time.Now().UnixMilli()).UTC()
				sig := cl.approvalSig("tom", other.Digest, now)
				err := rlog(ledger.Command{Kind: ledger.CmdApprove, At: now, ID: "refill-pending",
					Approval: &ledger.Approval{Officer: "tom", Verdict: "approve", Signature: sig, SignedAt: now}})
				if err != nil {
					t.Fatal(err)
				}
				unchanged(t, "refill-pending", pending, 0)
			})
			t.Run("fail/logs an approval its officer signed an hour before", func(t *testing.T) {
				// held back: the officer's own signature dates it
				pending, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "refill-pending"})
				then := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli()).UTC()
				sig := cl.approvalSig("tom", pending.Digest, then)
				err := rlog(ledger.Command{Kind: ledger.CmdApprove, At: time.Now().UTC(), ID: "refill-pending",
					Approval: &ledger.Approval{Officer: "tom", Verdict: "approve", Signature: sig, SignedAt: then}})
				if err != nil {
					t.Fatal(err)
				}
				unchanged(t, "refill-pending", pending, 0)
				if !strings.Contains(c.LogTail("node1", 400), "more than 10m0s apart") {
					t.Fatal("node1 did not log why it refused the approval")
				}
			})
			t.Run("fail/logs the release of a reservation another node holds", func(t *testing.T) {
				err := rlog(ledger.Command{Kind: ledger.CmdRelease, At: time.Now().UTC(), ID: "refill-locked", Reason: "forged",
					Reservation: &ledger.Reservation{Session: make([]byte, 32)}})
				if err != nil {
					t.Fatal(err)
				}
				unchanged(t, "refill-locked", locked, 2)
			})
		})
	})
	if got, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "refill-pending"}); got.State != "pending_approval" {
		t.Fatalf("refill-pending moved to %s", got.State)
	}

	t.Run("fail/an officer's approval signed ten minutes ago is refused", func(t *testing.T) {
		pending, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "refill-pending"})
		_, err := cl.decideSignedAt("node1", "tom", "approve", pending, pending.Digest, time.Now().Add(-10*time.Minute))
		if err == nil || !strings.Contains(err.Error(), "apart") {
			t.Fatalf("a stale approval: %v", err)
		}
		// the same approval signed now is taken (positive control)
		if _, err := cl.decideSignedAt("node1", "tom", "approve", pending, pending.Digest, time.Now()); err != nil {
			t.Fatalf("a fresh approval: %v", err)
		}
	})
	t.Run("fail/three requests at three home nodes over a velocity limit: only what fits is signed", func(t *testing.T) {
		// 3 × 0.2 BTC against 0.5 BTC an hour: each home node alone sees
		// room for its request; the signers' own gates must stop the third,
		// and no home may work around a node that refused
		ids := []string{"burst-a", "burst-b", "burst-c"}
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Add(1)
			go func(i int, id string) {
				defer wg.Done()
				home := cl.as([]string{"node1", "node2", "node3"}[i], tr.Withdrawal)
				_, errs[i] = home.Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.BTCIntent(id, w["btc-hot"], tr.Partner, 20_000_000, devcluster.FakeUTXO(w["btc-hot"], 30_000_000))})
			}(i, id)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("submit %s: %v", ids[i], err)
			}
		}
		deadline := time.Now().Add(60 * time.Second)
		signed := 0
		for time.Now().Before(deadline) && signed < 2 {
			signed = 0
			for _, id := range ids {
				if got, err := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: id}); err == nil && got.State == "signed" {
					signed++
				}
			}
			time.Sleep(300 * time.Millisecond)
		}
		time.Sleep(8 * time.Second) // retries and other signer pairs get their chance
		signed = 0
		for _, id := range ids {
			for _, n := range []string{"node1", "node2", "node3"} {
				if got, err := cl.as(n, tr.Withdrawal).Get(ctx, &transferpb.GetRequest{RequestId: id}); err == nil && got.State == "signed" {
					signed++
					break
				}
			}
		}
		if signed != 2 {
			t.Fatalf("%d of three requests signed; the limit fits two", signed)
		}
		// the one left over ends denied, and says why
		for _, id := range ids {
			got := cl.wait(id, "signed", "denied")
			if got.State == "denied" && !strings.Contains(got.Reason, "limit") {
				t.Fatalf("%s denied for another reason than the limit: %s", id, got.Reason)
			}
		}
	})
	t.Run("fail/two requests reusing one eth nonce: exactly one is signed", func(t *testing.T) {
		ids := []string{"nonce-a", "nonce-b"}
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func(i int, id string) {
				defer wg.Done()
				wei := []string{"1000000000000000000", "2000000000000000000"}[i]
				_, _ = cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.ETHIntent(id, w["eth-hot"], "eth-cold", wei, 7)})
			}(i, id)
		}
		wg.Wait()
		signed := 0
		for _, id := range ids {
			got := cl.wait(id, "signed", "denied", "failed")
			if got.State == "failed" {
				time.Sleep(5 * time.Second) // retries end denied or still unsigned
				got, _ = cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: id})
			}
			if got.State == "signed" {
				signed++
			}
		}
		if signed != 1 {
			t.Fatalf("%d requests signed with one nonce", signed)
		}
	})
	t.Run("fail/an intent restating a signed input's amount is refused on every node: no splice", func(t *testing.T) {
		// BIP-143 signs each input's stated amount: two intents over the
		// same outpoints, each understating a different input, would build
		// the same bytes and splice into a transaction paying the
		// difference as fee. The first statement is pinned for good.
		x, y := devcluster.FakeUTXO(w["btc-hot"], 3_000_000), devcluster.FakeUTXO(w["btc-hot"], 2_000_000)
		first := submit(devcluster.BTCIntent("splice-a", w["btc-hot"], "btc-cold", 1_000_000, x, y))
		verifyBTC(t, cl.wait(first.RequestId, "signed"), []*transferpb.UTXO{x, y})
		x2, y2 := proto.Clone(x).(*transferpb.UTXO), proto.Clone(y).(*transferpb.UTXO)
		x2.Amount, y2.Amount = 2_000_000, 3_000_000 // the same total, spliced
		for _, n := range []string{"node1", "node2", "node3"} {
			_, err := cl.as(n, tr.Withdrawal).Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.BTCIntent("splice-b-"+n, w["btc-hot"], "btc-cold", 1_000_000, x2, y2)})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), x.Txid+":0 was stated as 3000000 sat") ||
				!strings.Contains(err.Error(), "by request splice-a; this request states 2000000 sat") {
				t.Fatalf("%s took an intent restating a pinned input: %v", n, err)
			}
		}
	})
	t.Run("ok/nodes restarted mid-request: it completes once", func(t *testing.T) {
		// refill-locked has both approvals and is inside its 40s timelock
		if got, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "refill-locked"}); got.State != "timelocked" {
			t.Fatalf("precondition: refill-locked is %s", got.State)
		}
		for _, n := range []string{"node1", "node2", "node3"} {
			c.StopNode(n)
			if err := c.StartNode(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		cl.withdrawal = cl.as("node1", tr.Withdrawal)
		done := cl.wait("refill-locked", "signed")
		if done.Attempts != 1 || done.TxHash == "" {
			t.Fatalf("after restart: attempts %d, tx %q", done.Attempts, done.TxHash)
		}
		time.Sleep(2 * time.Second)
		for _, n := range []string{"node1", "node2", "node3"} {
			got, err := cl.as(n, tr.Withdrawal).Get(ctx, &transferpb.GetRequest{RequestId: "refill-locked"})
			if err != nil {
				t.Fatal(err)
			}
			if got.State == "signed" && got.TxHash != done.TxHash {
				t.Fatalf("%s holds another signed transaction for the request", n)
			}
		}
	})
	t.Run("ok/a flood of Prepares and oversized envelopes from one peer: memory bounded, node1 signs after", func(t *testing.T) {
		testFlood(t, c, func(t *testing.T) {
			u := devcluster.FakeUTXO(w["btc-hot"], 500_000)
			submit(devcluster.BTCIntent("after-flood", w["btc-hot"], "btc-cold", 100_000, u))
			verifyBTC(t, cl.wait("after-flood", "signed"), []*transferpb.UTXO{u})
		})
	})
}

// loggedRefusal reports whether node logged a refused session whose reason
// mentions what.
func loggedRefusal(c *devcluster.Cluster, node, what string) bool {
	for _, line := range strings.Split(c.LogTail(node, 2000), "\n") {
		if strings.Contains(line, `"msg":"refused session"`) && strings.Contains(line, what) {
			return true
		}
	}
	return false
}
