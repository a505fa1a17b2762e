package e2e

import (
	"context"
	"crypto/rand"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
)

type clients struct {
	t          *testing.T
	tr         *devcluster.Treasury
	withdrawal transferpb.TransfersClient
}

func (c clients) as(node string, cc devcluster.ClientCert) transferpb.TransfersClient {
	cl, err := c.tr.Layout.DialAs(node, cc)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = cl.Close() })
	return cl.Transfers
}

// wait polls a request until its state is one of want.
func (c clients) wait(id string, want ...string) *transferpb.Transfer {
	c.t.Helper()
	t, err := devcluster.Wait(context.Background(), c.withdrawal, id, 90*time.Second, want...)
	if err != nil {
		c.t.Fatal(err)
	}
	return t
}

// approvalSig signs an approval of digest at signedAt with the officer's
// key (policy.ApprovalMessage).
func (c clients) approvalSig(officer string, digest []byte, signedAt time.Time) []byte {
	return c.sign(officer, policy.VerdictApprove, digest, signedAt)
}

func (c clients) sign(officer string, v policy.Verdict, digest []byte, signedAt time.Time) []byte {
	cc := c.tr.Officers[officer]
	keyPEM, err := os.ReadFile(c.tr.Layout.Path(cc.Key))
	if err != nil {
		c.t.Fatal(err)
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		c.t.Fatal(err)
	}
	sig, err := policy.SignApproval(rand.Reader, key, policy.Hash(digest), v, signedAt)
	if err != nil {
		c.t.Fatal(err)
	}
	return sig
}

// decide has an officer sign a verdict over digest and send it to node2.
func (c clients) decide(officer, verdict string, t *transferpb.Transfer, digest []byte) (*transferpb.Transfer, error) {
	return c.decideAt("node2", officer, verdict, t, digest)
}

// decideAt sends an officer's signed decision to node.
func (c clients) decideAt(node, officer, verdict string, t *transferpb.Transfer, digest []byte) (*transferpb.Transfer, error) {
	return c.decideSignedAt(node, officer, verdict, t, digest, time.Now())
}

// decideSignedAt sends an officer's decision signed at signedAt to node.
func (c clients) decideSignedAt(node, officer, verdict string, t *transferpb.Transfer, digest []byte, signedAt time.Time) (*transferpb.Transfer, error) {
	cc := c.tr.Officers[officer]
	v := policy.VerdictApprove
	if verdict == "reject" {
		v = policy.VerdictReject
	}
	signedAt = time.UnixMilli(signedAt.UnixMilli())
	sig := c.sign(officer, v, digest, signedAt)
	return c.as(node, cc).Decide(context.Background(), &transferpb.DecideRequest{RequestId: t.RequestId, Officer: officer, Verdict: verdict, Digest: digest,
		Signature: sig, SignedAtUnixMs: signedAt.UnixMilli()})
}

func verifyBTC(t *testing.T, tx *transferpb.Transfer, prevouts []*transferpb.UTXO) {
	t.Helper()
	var ps []btc.UTXO
	for _, u := range prevouts {
		ps = append(ps, btc.UTXO{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: u.PkScript})
	}
	if err := btc.Verify(tx.SignedTx, "regtest", ps); err != nil {
		t.Fatalf("%s does not verify with btcd's script engine: %v", tx.RequestId, err)
	}
}

// TestTransfers runs the transfer workflow on three real nodes with a
// signed policy: sweeps, a refill with approvals and a timelock, a SAFU
// outflow, and the refusals.
func TestTransfers(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 3 * time.Second, SAFUTimelock: 4 * time.Second}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets

	sweepUTXO := devcluster.FakeUTXO(w["btc-hot"], 2_000_000)
	sweep := devcluster.BTCIntent("sweep-1", w["btc-hot"], "btc-cold", 1_000_000, sweepUTXO)
	t.Run("ok/hot to cold sweep is signed without approvals", func(t *testing.T) {
		got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: sweep})
		if err != nil {
			t.Fatal(err)
		}
		if got.Summary.GetDestinationClass() != "cold" || got.Summary.GetAmount() != "1000000" {
			t.Fatalf("summary: %v", got.Summary)
		}
		done := cl.wait("sweep-1", "signed")
		verifyBTC(t, done, []*transferpb.UTXO{sweepUTXO})
	})
	t.Run("ok/resubmission returns the stored result", func(t *testing.T) {
		again, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: sweep})
		first, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "sweep-1"})
		if err != nil || again.State != "signed" || again.TxHash != first.TxHash || again.TxHash == "" {
			t.Fatalf("resubmit: %v %v", again, err)
		}
	})
	t.Run("fail/same request ID with another intent", func(t *testing.T) {
		other := devcluster.BTCIntent("sweep-1", w["btc-hot"], "btc-cold", 1_500_000, sweepUTXO)
		_, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: other})
		if status.Code(err) != codes.AlreadyExists {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/a spent UTXO is not signed again", func(t *testing.T) {
		reuse := devcluster.BTCIntent("sweep-2", w["btc-hot"], "btc-cold", 500_000, sweepUTXO)
		got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: reuse})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "denied" || !strings.Contains(got.Reason, "already spent by request sweep-1") {
			t.Fatalf("reused UTXO: %s %q", got.State, got.Reason)
		}
	})
	t.Run("ok/eth sweep", func(t *testing.T) {
		in := devcluster.ETHIntent("eth-sweep-1", w["eth-hot"], "eth-cold", "1000000000000000000", 0)
		if _, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
			t.Fatal(err)
		}
		done := cl.wait("eth-sweep-1", "signed")
		if err := eth.Verify(done.SignedTx, w["eth-hot"].Address); err != nil {
			t.Fatalf("sender recovery: %v", err)
		}
	})
	t.Run("fail/cold to external is denied", func(t *testing.T) {
		in := devcluster.BTCIntent("cold-out", w["btc-cold"], tr.Partner, 100_000, devcluster.FakeUTXO(w["btc-cold"], 500_000))
		got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: in})
		if err != nil || got.State != "denied" || !strings.Contains(got.Reason, "pinned") {
			t.Fatalf("got %v %v", got, err)
		}
	})
	refillUTXO := devcluster.FakeUTXO(w["btc-cold"], 5_000_000)
	t.Run("ok/cold to hot refill waits for two approvals and a timelock", func(t *testing.T) {
		got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.BTCIntent("refill-1", w["btc-cold"], "btc-hot", 3_000_000, refillUTXO)})
		if err != nil || got.State != "pending_approval" {
			t.Fatalf("submit: %v %v", got, err)
		}
		// a withdrawal client cannot approve
		_, err = cl.withdrawal.Decide(ctx, &transferpb.DecideRequest{RequestId: "refill-1", Officer: "tom", Verdict: "approve", Digest: got.Digest})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("withdrawal approved: %v", err)
		}
		// an approval signed for another request does not count
		sweepDone, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "sweep-1"})
		if _, err := cl.decide("tom", "approve", got, sweepDone.Digest); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("replayed approval: %v", err)
		}
		if after, err := cl.decide("tom", "approve", got, got.Digest); err != nil || after.State != "pending_approval" {
			t.Fatalf("first approval: %v %v", after, err)
		}
		after, err := cl.decide("tina", "approve", got, got.Digest)
		if err != nil || after.State != "timelocked" || after.NotBeforeUnix == 0 {
			t.Fatalf("second approval: want timelocked, got %v %v", after, err)
		}
		for time.Now().Before(time.Unix(after.NotBeforeUnix, 0).Add(-500 * time.Millisecond)) {
			if g, _ := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: "refill-1"}); g.State == "signing" || g.State == "signed" {
				t.Fatalf("refill-1 is %s before its timelock ends", g.State)
			}
			time.Sleep(200 * time.Millisecond)
		}
		done := cl.wait("refill-1", "signed")
		if time.Unix(done.SubmittedAtUnix, 0).Add(3 * time.Second).After(time.Now()) {
			t.Fatal("signed before its timelock")
		}
		verifyBTC(t, done, []*transferpb.UTXO{refillUTXO})
	})
	t.Run("ok/SAFU outflow needs treasury and risk", func(t *testing.T) {
		u := devcluster.FakeUTXO(w["btc-safu"], 900_000)
		got, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: devcluster.BTCIntent("safu-1", w["btc-safu"], "btc-hot", 400_000, u)})
		if err != nil || got.State != "pending_approval" {
			t.Fatalf("submit: %v %v", got, err)
		}
		if after, err := cl.decide("tom", "approve", got, got.Digest); err != nil || after.State != "pending_approval" {
			t.Fatalf("treasury alone: %v %v", after, err)
		}
		if _, err := cl.decide("rita", "approve", got, got.Digest); err != nil {
			t.Fatal(err)
		}
		verifyBTC(t, cl.wait("safu-1", "signed"), []*transferpb.UTXO{u})
	})
	t.Run("ok/List pages: every transfer once, newest first, by cursor", func(t *testing.T) {
		auditor := cl.as("node2", tr.Auditor)
		whole, err := auditor.List(ctx, &transferpb.ListRequest{Limit: 1000})
		if err != nil || len(whole.Transfers) < 3 || whole.NextCursor != "" {
			t.Fatalf("one page of everything: %d transfers, cursor %q, %v", len(whole.GetTransfers()), whole.GetNextCursor(), err)
		}
		var paged []string
		req := &transferpb.ListRequest{Limit: 2}
		for pages := 0; ; pages++ {
			p, err := auditor.List(ctx, req)
			if err != nil || pages > len(whole.Transfers) {
				t.Fatalf("page %d: %v", pages, err)
			}
			for _, x := range p.Transfers {
				paged = append(paged, x.RequestId)
			}
			if req.Cursor = p.NextCursor; req.Cursor == "" {
				break
			}
		}
		var want []string
		for _, x := range whole.Transfers {
			want = append(want, x.RequestId)
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("pages of 2 list %v, one page lists %v", paged, want)
		}
		if _, err := auditor.List(ctx, &transferpb.ListRequest{Cursor: "zz"}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("a malformed cursor: %v", err)
		}
	})
	t.Run("governance", func(t *testing.T) { testPolicyGovernance(t, c, tr) })
}
