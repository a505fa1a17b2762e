package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/gate"
)

// submitTransfer checks an intent and proposes it to the replicated log
// with this node as its home; at is when the client submitted it.
func (w *Workflow) Submit(ctx context.Context, in *transferpb.Intent, initiator, role string, at time.Time) (ledger.Transfer, error) {
	if in == nil {
		return ledger.Transfer{}, gate.IntentErr("missing intent")
	}
	canon, err := (proto.MarshalOptions{Deterministic: true}).Marshal(in)
	if err != nil {
		return ledger.Transfer{}, gate.IntentErr("encode: %v", err)
	}
	if initiator == "" || len(initiator) > 256 || len(role) > 64 {
		return ledger.Transfer{}, gate.IntentErr("initiator must be 1..256 bytes and role at most 64")
	}
	// one submission at a time: two identical requests racing must not
	// both pass the existence check and then conflict
	w.submitMu.Lock()
	defer w.submitMu.Unlock()
	if old, err := w.store.Transfer(in.RequestId); err == nil {
		if old.Initiator != initiator {
			// the same answer whether or not the intent matches: a client
			// learns nothing of another client's requests
			return ledger.Transfer{}, ErrIDTaken
		}
		if !bytes.Equal(old.Intent, canon) {
			return ledger.Transfer{}, fmt.Errorf("request %s: %w", in.RequestId, ledger.ErrConflict)
		}
		return old, nil // idempotent: the stored request, its state and result
	} else if !errors.Is(err, ledger.ErrTransferNotFound) {
		return ledger.Transfer{}, err
	}
	pv, err := w.policy(at)
	if err != nil {
		return ledger.Transfer{}, err
	}
	b, err := w.gate.Build(pv, in, initiator, role, at)
	if err != nil {
		return ledger.Transfer{}, err
	}
	d, _, err := w.gate.Decide(pv, b, ledger.Transfer{Digest: b.Digest[:]}, at)
	if err != nil {
		return ledger.Transfer{}, err
	}
	if taken := w.inputsTaken(b, in.RequestId); taken != "" {
		d.Effect, d.Reason = policy.EffectDeny, taken
	}
	t := ledger.Transfer{ID: in.RequestId, Digest: b.Digest[:], Home: w.self, Initiator: initiator, InitiatorRole: role,
		Source: b.Src.ID, Chain: string(b.Src.Chain), Asset: b.Req.Asset, Amount: b.Req.Amount.Big().String(), To: b.To,
		Intent: canon, PolicyHash: pv.Hash, SubmittedAt: at, ExpiresAt: b.Expires, State: gate.StateFor(d),
		Reason: d.Reason, Rule: d.Rule, NotBefore: d.NotBefore}
	err = w.audit.Append(ctx, []audit.Record{
		{Kind: audit.KindTransferSubmitted, Time: at, Transfer: &audit.TransferSubmitted{RequestID: t.ID, RequestDigest: audit.Digest(b.Digest),
			Wallet: b.Src.ID, Destination: in.Destination, Asset: t.Asset, Amount: t.Amount, Chain: t.Chain,
			PolicyHash: audit.Digest(pv.Policy.Hash()), Expiry: b.Expires, Initiator: initiator}},
		{Kind: audit.KindDecision, Time: at, Decision: w.gate.DecisionRecord(pv, b, d, nil)},
	})
	if err != nil {
		return ledger.Transfer{}, err
	}
	return w.propose(ctx, ledger.Command{Kind: ledger.CmdSubmit, At: at, Submit: &t})
}

// recordDecision verifies an officer's signed verdict itself and records
// it, then re-evaluates the request.
func (w *Workflow) Decide(ctx context.Context, req *transferpb.DecideRequest, at time.Time) (ledger.Transfer, error) {
	t, err := w.Await(ctx, req.RequestId)
	if err != nil {
		return ledger.Transfer{}, err
	}
	if t.State.Final() {
		return t, fmt.Errorf("request %s is already %s: %w", t.ID, t.State, ledger.ErrFinal)
	}
	if !bytes.Equal(req.Digest, t.Digest) {
		return t, fmt.Errorf("%w: the approval is over another request digest than %s's", ErrApproval, t.ID)
	}
	var v policy.Verdict
	if err := v.UnmarshalText([]byte(req.Verdict)); err != nil {
		return t, fmt.Errorf("%w: %v", ErrApproval, err)
	}
	pv, err := w.policy(at)
	if err != nil {
		return t, err
	}
	// the officer signs when it signed: an approval is taken only close
	// to then, so it cannot be held back and used later
	if req.SignedAtUnixMs <= 0 {
		return t, fmt.Errorf("%w: the signing time is missing (sign %s with a current client)", ErrApproval, policy.ApprovalDomainV2)
	}
	signedAt := time.UnixMilli(req.SignedAtUnixMs).UTC()
	if d := at.Sub(signedAt); d > ApprovalSkew || d < -ApprovalSkew {
		return t, fmt.Errorf("%w: signed at %s, this node's time is %s: more than %s apart (sign again, or check the clocks)",
			ErrApproval, signedAt.Format(time.RFC3339), at.UTC().Format(time.RFC3339), ApprovalSkew)
	}
	if err := policy.VerifyApproval(pv.Policy, req.Officer, policy.Hash(t.Digest), v, signedAt, req.Signature); err != nil {
		return t, fmt.Errorf("%w: %v", ErrApproval, err)
	}
	var digest [32]byte
	copy(digest[:], t.Digest)
	if err := w.audit.Append(ctx, []audit.Record{{Kind: audit.KindApprovalRecorded, Time: at, Approval: &audit.ApprovalRecorded{
		RequestDigest: audit.Digest(digest), Officer: req.Officer, Verdict: req.Verdict, Signature: req.Signature, SignedAt: signedAt}}}); err != nil {
		return t, err
	}
	t, err = w.propose(ctx, ledger.Command{Kind: ledger.CmdApprove, At: at, ID: t.ID,
		Approval: &ledger.Approval{Officer: req.Officer, Verdict: req.Verdict, Signature: req.Signature, At: at, SignedAt: signedAt}})
	if err != nil {
		return t, err
	}
	if t.Home != w.self {
		// the home node moves the state; show the client what it moves to
		return w.awaitHome(ctx, t, at), nil
	}
	return w.reevaluate(ctx, t, at)
}

// ErrIDTaken means a request ID belongs to another client's request.
var ErrIDTaken = errors.New("request ID already in use")

// ApprovalSkew is how far an approval's signing time may lie from the
// node's clock when it arrives (the log allows ledger.MaxApprovalSkew
// between signing and logging).
const ApprovalSkew = 5 * time.Minute

// ErrApproval means an officer's approval was refused.
var ErrApproval = errors.New("approval refused")

// reevaluate runs the policy again (new approvals, a timelock passed, an
// expiry) and moves the request to the state it leads to. Only the home
// node moves a request's state; on the others this is a no-op.
func (w *Workflow) reevaluate(ctx context.Context, t ledger.Transfer, now time.Time) (ledger.Transfer, error) {
	if t.State.Final() || t.State == ledger.StateSigning || t.Home != w.self {
		return t, nil
	}
	if now.After(t.ExpiresAt) {
		return w.setState(t, ledger.StateExpired, "expired unsigned", "", time.Time{}, now)
	}
	pv, err := w.policy(now)
	if err != nil {
		return t, err
	}
	b, err := w.gate.Rebuild(pv, t)
	if errors.Is(err, gate.ErrIntent) || errors.Is(err, gate.ErrDigestMismatch) {
		return w.setState(t, ledger.StateDenied, err.Error(), "", time.Time{}, now)
	}
	if err != nil {
		return t, err // transient (store, keys): try again later
	}
	d, _, err := w.gate.Decide(pv, b, t, now)
	if err != nil {
		return t, err
	}
	if taken := w.inputsTaken(b, t.ID); taken != "" {
		d.Effect, d.Reason = policy.EffectDeny, taken
	}
	next := gate.StateFor(d)
	if next == t.State && d.Reason == t.Reason {
		return t, nil
	}
	w.audit.Log(ctx, audit.Record{Kind: audit.KindDecision, Time: now, Decision: w.gate.DecisionRecord(pv, b, d, nil)})
	return w.setState(t, next, d.Reason, d.Rule, d.NotBefore, now)
}

func (w *Workflow) setState(t ledger.Transfer, s ledger.TransferState, reason, rule string, notBefore, at time.Time) (ledger.Transfer, error) {
	if t.State == s && t.Reason == reason {
		return t, nil
	}
	return w.propose(context.Background(), ledger.Command{Kind: ledger.CmdSetState, At: at, ID: t.ID, State: s,
		Reason: reason, Rule: rule, NotBefore: notBefore})
}

// inputsTaken names an input (UTXO or nonce) that another signed transfer
// consumed, or "" when all are free or only held by transfers in flight
// (those are refused at reservation, and may still be released).
func (w *Workflow) inputsTaken(b *gate.Built, id string) string {
	holders, err := w.store.Holders(b.Outpoints, b.NonceKey)
	if err != nil {
		return "cannot read input reservations: " + err.Error()
	}
	for input, holder := range holders {
		if holder == id {
			continue
		}
		if t, err := w.store.Transfer(holder); err == nil && t.State == ledger.StateSigned {
			return fmt.Sprintf("input %s is already spent by request %s", input, holder)
		}
	}
	return ""
}

// awaitHome waits (bounded) until the home node has moved t to the state
// this node's own evaluation says it leads to, and returns t as it is then.
func (w *Workflow) awaitHome(ctx context.Context, t ledger.Transfer, now time.Time) ledger.Transfer {
	pv, err := w.policy(now)
	if err != nil {
		return t
	}
	b, err := w.gate.Rebuild(pv, t)
	if err != nil {
		return t
	}
	d, _, err := w.gate.Decide(pv, b, t, now)
	if err != nil {
		return t
	}
	want := gate.StateFor(d)
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	for {
		changed := w.store.Changed()
		cur, err := w.store.Transfer(t.ID)
		if err != nil {
			return t
		}
		if cur.State == want || cur.State.Final() || cur.State == ledger.StateSigning || cur.State == ledger.StateReady {
			return cur
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return cur
		}
	}
}
