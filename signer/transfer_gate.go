package signer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// errDigestMismatch means a rebuilt request does not match its record.
var errDigestMismatch = errors.New("the rebuilt digest differs from the recorded one")

// subSessionID names the tss signing of sighash i within a session.
func subSessionID(sid []byte, i int) []byte {
	h := sha256.New()
	h.Write([]byte("coffer/subsession/v1\x00"))
	h.Write(sid)
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
	return h.Sum(nil)
}

// rebuild loads a transfer from this node's ledger and rebuilds its
// transaction and digest from the stored intent, refusing any difference.
func (n *Node) rebuild(pv *policyView, t ledger.Transfer) (*built, error) {
	var in transferpb.Intent
	if err := proto.Unmarshal(t.Intent, &in); err != nil {
		return nil, fmt.Errorf("decode stored intent of %s: %w", t.ID, err)
	}
	b, err := n.buildTransfer(pv, &in, t.Initiator, t.InitiatorRole, t.SubmittedAt)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b.digest[:], t.Digest) {
		return nil, fmt.Errorf("request %s: %w", t.ID, errDigestMismatch)
	}
	return b, nil
}

// prepareTransfer is the gate (DESIGN.md §5 step 5), run by every invited
// node on its own state and clock: rebuild the transaction, recompute the
// digest, evaluate the policy, reserve limits and inputs, log the decision
// durably, and only then unseal the share.
func (n *Node) prepareTransfer(ctx context.Context, sid []byte, spec *peerpb.SessionSpec) (*entry, error) {
	// the coordinator decided at a log index: this node decides on a state
	// at least that recent, or not at all
	wctx, cancel := context.WithTimeout(ctx, maxLogWait)
	err := n.rep.WaitApplied(wctx, spec.LogIndex)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("request %q: this node has not applied log index %d: %w", spec.RequestId, spec.LogIndex, err)
	}
	now := n.now().UTC()
	t, err := n.store.Transfer(spec.RequestId)
	if err != nil {
		return nil, fmt.Errorf("request %q: %w", spec.RequestId, err)
	}
	if t.State.Final() {
		return nil, fmt.Errorf("request %s is %s", t.ID, t.State)
	}
	pv, err := n.activePolicy(now)
	if err != nil {
		return nil, err
	}
	if pv.hash != t.PolicyHash {
		return nil, fmt.Errorf("request %s was submitted under policy %.12s, %.12s is active now: resubmit it", t.ID, t.PolicyHash, pv.hash)
	}
	b, err := n.rebuild(pv, t)
	if err != nil {
		return nil, err
	}
	if b.src.Key != spec.KeyId {
		return nil, fmt.Errorf("request %s spends from key %s, the session names %s", t.ID, b.src.Key, spec.KeyId)
	}
	rec, err := n.store.Key(b.src.Key)
	if err != nil {
		return nil, err
	}
	// Evaluate and reserve atomically on this node: two requests cannot
	// both pass a limit that only one of them fits under.
	d, err := n.evaluateAndReserve(ctx, pv, b, spec.RequestId, sid, now)
	if err != nil {
		if d.Effect != policy.EffectAllow && d.Reason != "" {
			n.logAudit(ctx, audit.Record{Kind: audit.KindDecision, Time: now, Decision: n.decisionRecord(pv, b, d, sid)})
		}
		return nil, err
	}
	dec := n.decisionRecord(pv, b, d, sid)
	release := func(ctx context.Context, reason error) {
		_, rerr := n.propose(context.WithoutCancel(ctx), ledger.Command{Kind: ledger.CmdRelease, At: n.now().UTC(), ID: t.ID,
			Reason: reason.Error(), Reservation: &ledger.Reservation{Session: sid}})
		if rerr != nil {
			n.log.Error("release reservation", "request", t.ID, "err", rerr)
		}
	}
	// log before sign: the allow decision and the session are durable in
	// this node's audit log before the share is unsealed.
	err = n.appendAudit(ctx, []audit.Record{
		{Kind: audit.KindDecision, Time: now, Decision: dec},
		{Kind: audit.KindSessionStarted, Time: now, Session: &audit.SessionStarted{SessionID: audit.Digest(sid2(sid)), RequestDigest: audit.Digest(b.digest),
			KeyID: rec.ID, Parties: spec.Parties, Coordinator: spec.Coordinator}},
	})
	if err != nil {
		release(ctx, err)
		return nil, fmt.Errorf("log decision for %s: %w", t.ID, err)
	}
	sh, err := n.openShare(ctx, rec.ID, rec.Generation, rec.SealedShare, rec.PublicKey)
	if err != nil {
		release(ctx, err)
		return nil, err
	}
	e := &entry{discard: sh.Zero, after: sh.Zero}
	for i, h := range b.sighashes {
		s, err := ctss.NewSign(ctss.SignConfig{SessionID: subSessionID(sid, i), Cluster: n.cfg.Cluster, Self: n.cfg.Node, KeyID: rec.ID, Generation: rec.Generation,
			Threshold: rec.Threshold, Committee: rec.Nodes(), Signers: spec.Parties, Share: sh, ChainCode: rec.ChainCode,
			Path: b.src.Path, Digest: h, KeepShare: true, Log: n.log})
		if err != nil {
			sh.Zero()
			release(ctx, err)
			return nil, err
		}
		e.subs = append(e.subs, s)
	}
	e.onFailure = func(ctx context.Context, err error) {
		release(ctx, err)
		var se *ctss.SessionError
		var culprits []string
		if errors.As(err, &se) {
			culprits = se.Culprits
		}
		n.logAudit(ctx, audit.Record{Kind: audit.KindSessionFailed, Time: n.now().UTC(),
			Failure: &audit.SessionFailed{SessionID: audit.Digest(sid2(sid)), RequestDigest: audit.Digest(b.digest), Reason: err.Error(), Culprits: culprits}})
	}
	e.onSuccess = func(ctx context.Context, rs []*ctss.Result) (*peerpb.RunResponse, error) {
		sigs := make([]sig, len(rs))
		resp := &peerpb.RunResponse{PublicKey: b.srcPub}
		for i, r := range rs {
			sigs[i] = sig{R: r.Signature.R, S: r.Signature.S, Recovery: r.Signature.Recovery}
			resp.Sigs = append(resp.Sigs, &peerpb.Sig{R: r.Signature.R.Bytes(), S: r.Signature.S.Bytes(), Recovery: uint32(r.Signature.Recovery)})
		}
		signed, txHash, err := b.attach(sigs)
		if err != nil {
			return nil, fmt.Errorf("assemble %s: %w", t.ID, err)
		}
		at := n.now().UTC()
		if _, err := n.propose(context.WithoutCancel(ctx), ledger.Command{Kind: ledger.CmdComplete, At: at, ID: t.ID,
			Result: &ledger.Result{Session: sid, SignedTx: signed, TxHash: txHash, At: at}}); err != nil {
			return nil, fmt.Errorf("record result of %s: %w", t.ID, err)
		}
		n.logAudit(ctx, audit.Record{Kind: audit.KindSignatureProduced, Time: at, Signature: &audit.SignatureProduced{
			SessionID: audit.Digest(sid2(sid)), RequestDigest: audit.Digest(b.digest), KeyID: rec.ID, Threshold: rec.Threshold,
			Parties: slices.Clone(spec.Parties), Chain: string(b.src.Chain), TxHash: txHash}})
		n.log.Info("transfer signed", "request", t.ID, "tx", txHash, "chain", b.src.Chain)
		resp.SignedTx = signed
		return resp, nil
	}
	return e, nil
}

// maxLogWait bounds how long a participant waits to apply the log index a
// coordinator decided at.
const maxLogWait = 5 * time.Second

// reserveTries bounds how often a participant decides again after another
// transfer's spend changed between its decision and its reservation.
const reserveTries = 8

// evaluateAndReserve decides on this node's state and clock and, when the
// policy allows, reserves the spend and the inputs through the replicated
// log. The reservation names the log index the decision was made at, and
// the log refuses it when another transfer's spend changed since, so two
// nodes can never both pass a limit only one request fits under; the node
// then decides again on the newer state.
func (n *Node) evaluateAndReserve(ctx context.Context, pv *policyView, b *built, id string, sid []byte, now time.Time) (policy.Decision, error) {
	n.gateMu.Lock()
	defer n.gateMu.Unlock()
	var d policy.Decision
	for try := 0; ; try++ {
		t, err := n.store.Transfer(id)
		if err != nil {
			return policy.Decision{}, err
		}
		var resumes []byte
		switch {
		case t.State == ledger.StateReady || t.State == ledger.StateFailed:
		case t.State == ledger.StateSigning && t.Reservation != nil && bytes.Equal(t.Reservation.Session, sid):
		case n.stale(t, now):
			// its session went silent by this node's clock too: take its
			// reservation over for this one, over the same transaction
			resumes = t.Reservation.Session
		default:
			return policy.Decision{}, fmt.Errorf("request %s is %s, not ready to sign", id, t.State)
		}
		var basedOn uint64
		if d, basedOn, err = n.decide(pv, b, t, now); err != nil {
			return d, err
		}
		if !d.Allowed() {
			return d, fmt.Errorf("policy %s request %s: %s", d.Effect, t.ID, d.Reason)
		}
		spend := ledger.Spend{At: now, Source: b.src.ID, To: b.to, Rule: d.Rule, Asset: b.req.Asset, Amount: b.req.Amount.Big().String()}
		_, err = n.propose(ctx, ledger.Command{Kind: ledger.CmdReserve, At: now, ID: t.ID,
			Reservation: &ledger.Reservation{Session: sid, At: now, Outpoints: b.outpoints, NonceKey: b.nonceKey, Spend: spend, BasedOn: basedOn,
				Resumes: resumes}})
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, ledger.ErrConflict) || !strings.Contains(err.Error(), "decide again") || try+1 >= reserveTries {
			return d, fmt.Errorf("reserve for %s: %w", t.ID, err)
		}
		now = n.now().UTC()
	}
}

func sid2(sid []byte) (d [32]byte) { copy(d[:], sid); return d }

func (n *Node) decisionRecord(pv *policyView, b *built, d policy.Decision, sid []byte) *audit.Decision {
	rec := &audit.Decision{RequestDigest: audit.Digest(b.digest), PolicyHash: audit.Digest(pv.p.Hash()), PolicyVersion: pv.p.Version(),
		Effect: d.Effect.String(), Rule: d.Rule, Reason: d.Reason, Approvers: d.Approvers, Trace: d.Trace}
	if sid != nil {
		rec.SessionID = audit.Digest(sid2(sid))
	}
	for _, m := range d.Missing {
		rec.Missing = append(rec.Missing, m.Text)
	}
	return rec
}
