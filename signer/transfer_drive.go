package signer

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/ledger"
)

// maxAttempts bounds the home node's automatic retries of a request, and
// retryBackoff spaces them.
const (
	maxAttempts  = 3
	retryBackoff = 3 * time.Second
)

// kick starts signing when this node is the request's home and it is ready.
func (n *Node) kick(t ledger.Transfer) {
	if t.Home == n.cfg.Node && t.State == ledger.StateReady {
		go n.drive(t.ID)
	}
}

// drive coordinates the signing of a ready request (home node only). The
// coordinator is a relay: every signer runs the gate itself.
func (n *Node) drive(id string) {
	if _, busy := n.driving.LoadOrStore(id, struct{}{}); busy {
		return
	}
	defer n.driving.Delete(id)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n.cfg.Sessions.Timeout)+15*time.Second)
	defer cancel()
	t, err := n.store.Transfer(id)
	if err != nil || t.Home != n.cfg.Node || (t.State != ledger.StateReady && t.State != ledger.StateFailed) {
		return
	}
	pv, err := n.activePolicy(n.now())
	if err != nil {
		return
	}
	b, err := n.rebuild(pv, t)
	if err != nil {
		n.log.Error("rebuild request", "request", id, "err", err)
		return
	}
	rec, err := n.store.Key(b.src.Key)
	if err != nil {
		return
	}
	var exclude []string
	for try := 0; try < 2; try++ {
		signers := pickSigners(nodesOf(rec), rec.Threshold+1, n.cfg.Node, exclude)
		if signers == nil {
			n.log.Warn("not enough signers reachable", "request", id, "excluded", exclude)
			return
		}
		// the signers know the request from the replicated log: the spec
		// names the index this node decided at, which they wait for
		spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_TRANSFER, KeyId: rec.ID, Parties: signers, RequestId: id,
			LogIndex: n.rep.Applied()}
		_, err := n.coordinate(ctx, spec, nil)
		if err == nil {
			return
		}
		n.retryAt.Store(id, n.now().Add(retryBackoff))
		n.log.Warn("transfer session failed", "request", id, "err", err)
		// Retry at once without a node only when it could not be reached.
		// A node that answered and refused (a limit, a spent input, a
		// signature it already made) is never worked around: shopping for
		// another pair would defeat its check. Failures during the run are
		// retried later with the same choice of signers.
		var sf *SessionFailedError
		if !errors.As(err, &sf) || sf.Stage != "prepare" || len(sf.Unreachable) == 0 || len(sf.Unreachable) != len(sf.Nodes) {
			return
		}
		if slices.Contains(sf.Unreachable, n.cfg.Node) {
			return
		}
		exclude = append(exclude, sf.Unreachable...)
	}
}

// pickSigners chooses k committee members: self first, then the others in
// committee order, skipping excluded ones.
func pickSigners(committee []string, k int, self string, exclude []string) []string {
	if !slices.Contains(committee, self) {
		return nil
	}
	out := []string{self}
	for _, c := range committee {
		if len(out) == k {
			break
		}
		if c != self && !slices.Contains(exclude, c) {
			out = append(out, c)
		}
	}
	if len(out) < k {
		return nil
	}
	slices.Sort(out)
	return out
}

// schedule re-evaluates this node's open requests (timelocks passing,
// expiries, retries after a failed session) and drives the ready ones.
func (n *Node) schedule(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case id := <-n.wake:
			n.wakeOne(ctx, id)
			continue
		}
		open, err := n.store.Transfers(ledger.TransferFilter{Home: n.cfg.Node})
		if err != nil {
			continue
		}
		now := n.now().UTC()
		for _, tr := range open {
			if tr.State.Final() || tr.State == ledger.StateSigning {
				continue
			}
			if tr.State == ledger.StateFailed && (tr.Attempts >= maxAttempts || now.Sub(tr.UpdatedAt) < 2*time.Second) {
				if now.After(tr.ExpiresAt) {
					_, _ = n.reevaluate(ctx, tr, now)
				}
				continue
			}
			if _, busy := n.driving.Load(tr.ID); busy {
				continue
			}
			if at, ok := n.retryAt.Load(tr.ID); ok && now.Before(at.(time.Time)) {
				continue
			}
			next, err := n.reevaluate(ctx, tr, now)
			if err != nil {
				continue
			}
			if next.State == ledger.StateReady || next.State == ledger.StateFailed && next.Attempts < maxAttempts {
				go n.drive(next.ID)
			}
		}
	}
}

// wakeOne re-evaluates one home transfer the log just changed (an approval
// recorded, a session failed) and drives it when it is ready.
func (n *Node) wakeOne(ctx context.Context, id string) {
	tr, err := n.store.Transfer(id)
	if err != nil || tr.Home != n.cfg.Node || tr.State.Final() || tr.State == ledger.StateSigning {
		return
	}
	if _, busy := n.driving.Load(id); busy {
		return
	}
	if tr.State == ledger.StateFailed {
		return // retried by the periodic pass after its backoff
	}
	next, err := n.reevaluate(ctx, tr, n.now().UTC())
	if err == nil && next.State == ledger.StateReady {
		go n.drive(next.ID)
	}
}
