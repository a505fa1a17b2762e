package signer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/gate"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// subSessionID names the tss signing of sighash i within a session.
func subSessionID(sid []byte, i int) []byte {
	h := sha256.New()
	h.Write([]byte("coffer/subsession/v1\x00"))
	h.Write(sid)
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
	return h.Sum(nil)
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
	if spec.Coordinator != t.Home {
		// only a request's home starts its sessions: another member could
		// otherwise start (and abort) sessions for every ready request
		return nil, fmt.Errorf("request %s is homed on %s; %s may not start its session", t.ID, t.Home, spec.Coordinator)
	}
	if t.State.Final() {
		return nil, fmt.Errorf("request %s is %s", t.ID, t.State)
	}
	pv, err := n.activePolicy(now)
	if err != nil {
		return nil, err
	}
	if pv.Hash != t.PolicyHash {
		return nil, fmt.Errorf("request %s was submitted under policy %.12s, %.12s is active now: resubmit it", t.ID, t.PolicyHash, pv.Hash)
	}
	b, err := n.gate.Rebuild(pv, t)
	if err != nil {
		return nil, err
	}
	if b.Src.Key != spec.KeyId {
		return nil, fmt.Errorf("request %s spends from key %s, the session names %s", t.ID, b.Src.Key, spec.KeyId)
	}
	rec, err := n.store.Key(b.Src.Key)
	if err != nil {
		return nil, err
	}
	// Evaluate and reserve atomically on this node: two requests cannot
	// both pass a limit that only one of them fits under.
	d, err := n.gate.EvaluateAndReserve(ctx, pv, b, spec.RequestId, sid, now)
	if err != nil {
		if d.Effect != policy.EffectAllow && d.Reason != "" {
			n.logAudit(ctx, audit.Record{Kind: audit.KindDecision, Time: now, Decision: n.gate.DecisionRecord(pv, b, d, sid)})
		}
		return nil, err
	}
	dec := n.gate.DecisionRecord(pv, b, d, sid)
	release := n.releaser(t.ID, sid)
	// log before sign: the allow decision and the session are durable in
	// this node's audit log before the share is unsealed.
	err = n.appendAudit(ctx, []audit.Record{
		{Kind: audit.KindDecision, Time: now, Decision: dec},
		{Kind: audit.KindSessionStarted, Time: now, Session: &audit.SessionStarted{SessionID: audit.Digest(gate.SessionDigest(sid)), RequestDigest: audit.Digest(b.Digest),
			KeyID: rec.ID, Parties: spec.Parties, Coordinator: spec.Coordinator}},
	})
	if err != nil {
		release(ctx, err)
		return nil, fmt.Errorf("log decision for %s: %w", t.ID, err)
	}
	sh := n.lazyShare(rec.ID, rec.Generation, rec.SealedShare, rec.PublicKey)
	e := &entry{discard: sh.zero, after: sh.zero}
	for i, h := range b.Sighashes {
		s, err := ctss.NewSign(ctss.SignConfig{SessionID: subSessionID(sid, i), Cluster: n.cfg.Cluster, Self: n.cfg.Node, KeyID: rec.ID, Generation: rec.Generation,
			Threshold: rec.Threshold, Committee: rec.Nodes(), Signers: spec.Parties, OpenShare: sh.get, ChainCode: rec.ChainCode,
			Path: b.Src.Path, Digest: h, KeepShare: true, Log: n.log})
		if err != nil {
			release(ctx, err)
			return nil, err
		}
		e.subs = append(e.subs, s)
	}
	e.onFailure = n.transferFailed(t.ID, b.Digest, sid, spec.Parties, e.exposed)
	e.onSuccess = func(ctx context.Context, rs []*ctss.Result) (*peerpb.RunResponse, error) {
		sigs := make([]gate.Sig, len(rs))
		resp := &peerpb.RunResponse{PublicKey: b.SrcPub}
		for i, r := range rs {
			sigs[i] = gate.Sig{R: r.Signature.R, S: r.Signature.S, Recovery: r.Signature.Recovery}
			resp.Sigs = append(resp.Sigs, &peerpb.Sig{R: r.Signature.R.Bytes(), S: r.Signature.S.Bytes(), Recovery: uint32(r.Signature.Recovery)})
		}
		signed, txHash, err := b.Attach(sigs)
		if err != nil {
			return nil, fmt.Errorf("assemble %s: %w", t.ID, err)
		}
		at := n.now().UTC()
		// the record first, then the ledger: a signature the ledger holds
		// always has its record in this node's audit log, whatever happens
		// to this process or the coordinator between the two steps (a
		// record without a ledger result is resumed and signed again over
		// the same bytes). Without the record the result is not offered.
		if err := n.logAuditDurably(ctx, audit.Record{Kind: audit.KindSignatureProduced, Time: at, Signature: &audit.SignatureProduced{
			SessionID: audit.Digest(gate.SessionDigest(sid)), RequestDigest: audit.Digest(b.Digest), KeyID: rec.ID, Threshold: rec.Threshold,
			Parties: slices.Clone(spec.Parties), Chain: string(b.Src.Chain), TxHash: txHash}}); err != nil {
			return nil, fmt.Errorf("record signature of %s in the audit log: %w", t.ID, err)
		}
		if _, err := n.propose(context.WithoutCancel(ctx), ledger.Command{Kind: ledger.CmdComplete, At: at, ID: t.ID,
			Result: &ledger.Result{Session: sid, SignedTx: signed, TxHash: txHash, At: at}}); err != nil {
			return nil, fmt.Errorf("record result of %s: %w", t.ID, err)
		}
		n.log.Info("transfer signed", "request", t.ID, "tx", txHash, "chain", b.Src.Chain)
		resp.SignedTx = signed
		return resp, nil
	}
	return e, nil
}

// maxLogWait bounds how long a participant waits to apply the log index a
// coordinator decided at.
const maxLogWait = 5 * time.Second

// releaser proposes the release of this node's hold on a transfer's
// reservation for session sid, with a bounded, sanitized reason.
func (n *Node) releaser(id string, sid []byte) func(context.Context, error) {
	return func(ctx context.Context, reason error) { n.release(ctx, id, sid, reason, false) }
}

// release gives up this node's hold on a session's reservation. With
// possiblySigned (this node sent its last-round share) the ledger frees
// nothing: a signature may exist, withheld by whoever gathered the shares.
func (n *Node) release(ctx context.Context, id string, sid []byte, reason error, possiblySigned bool) {
	_, err := n.propose(context.WithoutCancel(ctx), ledger.Command{Kind: ledger.CmdRelease, At: n.now().UTC(), ID: id,
		Reason: safeText(reason.Error(), maxRecordText), Reservation: &ledger.Reservation{Session: sid, PossiblySigned: possiblySigned}})
	if err != nil {
		n.log.Error("release reservation", "request", id, "err", err)
	}
}

// transferFailed is what a participant does when its transfer session
// failed: release its hold and record the failure, naming only culprits
// that are parties of the session, with a bounded reason.
func (n *Node) transferFailed(id string, digest [32]byte, sid []byte, parties []string, exposed func() bool) func(context.Context, error) {
	return func(ctx context.Context, err error) {
		possibly := exposed()
		n.release(ctx, id, sid, err, possibly)
		if possibly {
			n.log.Warn("session failed after this node sent its last-round share: the request counts as possibly signed and keeps its reservation",
				"request", id, "session", short(sid))
		}
		var se *ctss.SessionError
		var culprits []string
		if errors.As(err, &se) {
			for _, c := range se.Culprits {
				if slices.Contains(parties, c) && !slices.Contains(culprits, c) {
					culprits = append(culprits, c)
				}
			}
		}
		n.logAuditDurably(ctx, audit.Record{Kind: audit.KindSessionFailed, Time: n.now().UTC(),
			Failure: &audit.SessionFailed{SessionID: audit.Digest(gate.SessionDigest(sid)), RequestDigest: audit.Digest(digest),
				Reason: safeText(err.Error(), maxRecordText), Culprits: culprits, PossiblySigned: possibly}})
	}
}
