package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// ErrDigestMismatch means a rebuilt request does not match its record.
var ErrDigestMismatch = errors.New("the rebuilt digest differs from the recorded one")

// rebuild loads a transfer from this node's ledger and rebuilds its
// transaction and digest from the stored intent, refusing any difference.
func (g *Gate) Rebuild(pv *PolicyView, t ledger.Transfer) (*Built, error) {
	var in transferpb.Intent
	if err := proto.Unmarshal(t.Intent, &in); err != nil {
		return nil, fmt.Errorf("decode stored intent of %s: %w", t.ID, err)
	}
	b, err := g.Build(pv, &in, t.Initiator, t.InitiatorRole, t.SubmittedAt)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b.Digest[:], t.Digest) {
		return nil, fmt.Errorf("request %s: %w", t.ID, ErrDigestMismatch)
	}
	return b, nil
}

// reserveTries bounds how often a participant decides again after another
// transfer's spend changed between its decision and its reservation.
const reserveTries = 8

// evaluateAndReserve decides on this node's state and clock and, when the
// policy allows, reserves the spend and the inputs through the replicated
// log. The reservation names the log index the decision was made at, and
// the log refuses it when another transfer's spend changed since, so two
// nodes can never both pass a limit only one request fits under; the node
// then decides again on the newer state.
func (g *Gate) EvaluateAndReserve(ctx context.Context, pv *PolicyView, b *Built, id string, sid []byte, now time.Time) (policy.Decision, error) {
	if g.propose == nil {
		return policy.Decision{}, errors.New("gate: no log to reserve through")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var d policy.Decision
	for try := 0; ; try++ {
		t, err := g.store.Transfer(id)
		if err != nil {
			return policy.Decision{}, err
		}
		var resumes []byte
		switch {
		case t.State == ledger.StateReady || t.State == ledger.StateFailed:
		case t.State == ledger.StateSigning && t.Reservation != nil && bytes.Equal(t.Reservation.Session, sid):
		case g.Stale(t, now):
			// its session went silent by this node's clock too: take its
			// reservation over for this one, over the same transaction
			resumes = t.Reservation.Session
		default:
			return policy.Decision{}, fmt.Errorf("request %s is %s, not ready to sign", id, t.State)
		}
		var basedOn uint64
		if d, basedOn, err = g.Decide(pv, b, t, now); err != nil {
			return d, err
		}
		if !d.Allowed() {
			return d, fmt.Errorf("policy %s request %s: %s", d.Effect, t.ID, d.Reason)
		}
		// the fee counts too: in the source's fee budgets and native-asset
		// source limits (btc: the fee paid; eth: the maximum fee)
		spend := ledger.Spend{At: now, Source: b.Src.ID, To: b.To, Rule: d.Rule, Asset: b.Req.Asset,
			Amount: b.Req.Amount.Big().String(), Fee: b.Req.Fee.Big().String()}
		_, err = g.propose(ctx, ledger.Command{Kind: ledger.CmdReserve, At: now, ID: t.ID,
			Reservation: &ledger.Reservation{Session: sid, At: now, Outpoints: b.Outpoints, Inputs: b.Inputs, NonceKey: b.NonceKey, Spend: spend, BasedOn: basedOn,
				Resumes: resumes}})
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, ledger.ErrConflict) || !strings.Contains(err.Error(), "decide again") || try+1 >= reserveTries {
			return d, fmt.Errorf("reserve for %s: %w", t.ID, err)
		}
		now = g.now().UTC()
	}
}

// SessionDigest is a session ID as the audit log records it.
func SessionDigest(sid []byte) (d [32]byte) { copy(d[:], sid); return d }

// DecisionRecord is a decision as the audit log records it.
func (g *Gate) DecisionRecord(pv *PolicyView, b *Built, d policy.Decision, sid []byte) *audit.Decision {
	rec := &audit.Decision{RequestDigest: audit.Digest(b.Digest), PolicyHash: audit.Digest(pv.Policy.Hash()), PolicyVersion: pv.Policy.Version(),
		Effect: d.Effect.String(), Rule: d.Rule, Reason: d.Reason, Approvers: d.Approvers, Trace: d.Trace}
	if sid != nil {
		rec.SessionID = audit.Digest(SessionDigest(sid))
	}
	for _, m := range d.Missing {
		rec.Missing = append(rec.Missing, m.Text)
	}
	return rec
}

// staleAfter is how long a reservation's session may run before the home
// node takes it as dead (its coordinator or a signer was killed
// mid-session) and resumes it: a new session over the same transaction.
func (g *Gate) StaleAfter() time.Duration {
	return time.Duration(g.sessionTimeout) + 30*time.Second
}

// stale reports whether t is signing under a session that went silent,
// by this node's clock, or whose every holder gave up (a resumed session
// that failed: its reservation stands until the next resumption).
func (g *Gate) Stale(t ledger.Transfer, now time.Time) bool {
	return t.State == ledger.StateSigning && t.Reservation != nil &&
		(t.Reservation.Silent || now.Sub(t.Reservation.At) > g.StaleAfter())
}
