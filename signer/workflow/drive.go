package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/ledger"
)

// retryBackoff spaces the home node's retries of a failed request: the
// n-th failure waits retryBackoff·2^(n-1), at most maxBackoff. A request is
// retried until it is signed, denied or expires: a failure (a node down,
// a session cut by a crash) is not an outcome.
const (
	retryBackoff = 3 * time.Second
	maxBackoff   = time.Minute
)

// retryAfter is how long after its last failure request id waits before
// its next try: the backoff plus up to a quarter of it again, a jitter
// drawn from the request ID and attempt (the same on every look, so the
// due time does not move; different across requests, so requests failed
// together by one outage do not retry in one wave).
func retryAfter(id string, attempts int) time.Duration {
	b := backoff(attempts)
	h := sha256.Sum256(fmt.Appendf(nil, "%s#%d", id, attempts))
	return b + time.Duration(binary.BigEndian.Uint64(h[:8])%uint64(b/4+1))
}

// backoff is how long after its last failure a request waits, before
// jitter.
func backoff(attempts int) time.Duration {
	d := retryBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// kick starts signing when this node is the request's home and it is ready.
func (w *Workflow) Kick(t ledger.Transfer) {
	if t.Home == w.self && t.State == ledger.StateReady {
		go w.drive(t.ID)
	}
}

// drive coordinates the signing of a ready request (home node only). The
// coordinator is a relay: every signer runs the gate itself.
func (w *Workflow) drive(id string) {
	if _, busy := w.driving.LoadOrStore(id, struct{}{}); busy {
		return
	}
	// The scheduler looks again once this drive is over. A drive that ends
	// without a session (no policy, no key record, too few signers) or with
	// a failed one leaves a retry time first: the look then waits for it
	// instead of driving again at once, round and round.
	signed := false
	defer w.Wake(id)
	defer func() {
		if !signed {
			w.retryAt.Store(id, w.now().Add(retryBackoff))
		}
	}()
	defer w.driving.Delete(id)
	ctx, cancel := context.WithTimeout(context.Background(), w.sessionTimeout+15*time.Second)
	defer cancel()
	t, err := w.store.Transfer(id)
	if err != nil || t.Home != w.self || (t.State != ledger.StateReady && t.State != ledger.StateFailed && !w.gate.Stale(t, w.now())) {
		return
	}
	if t.State == ledger.StateSigning {
		w.log.Warn("resuming a session that went silent", "request", id, "session", fmt.Sprintf("%x", t.Reservation.Session),
			"reserved_at", t.Reservation.At)
	}
	pv, err := w.policy(w.now())
	if err != nil {
		return
	}
	b, err := w.gate.Rebuild(pv, t)
	if err != nil {
		w.log.Error("rebuild request", "request", id, "err", err)
		return
	}
	rec, err := w.store.Key(b.Src.Key)
	if err != nil {
		return
	}
	var exclude []string
	for try := 0; try < 2; try++ {
		signers := pickSigners(rec.Nodes(), rec.Threshold+1, w.self, exclude)
		if signers == nil {
			w.log.Warn("not enough signers reachable", "request", id, "excluded", exclude)
			return
		}
		// the signers know the request from the replicated log: the spec
		// names the index this node decided at, which they wait for
		spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_TRANSFER, KeyId: rec.ID, Parties: signers, RequestId: id,
			LogIndex: w.applied()}
		err := w.coordinate(ctx, spec)
		if err == nil {
			signed = true
			return
		}
		w.retryAt.Store(id, w.now().Add(retryBackoff))
		w.log.Warn("transfer session failed", "request", id, "err", err)
		// Retry at once without a node only when it could not be reached.
		// A node that answered and refused (a limit, a spent input, a
		// signature it already made) is never worked around: shopping for
		// another pair would defeat its check. Failures during the run are
		// retried later with the same choice of signers.
		var sf SessionFailure
		if !errors.As(err, &sf) {
			return
		}
		unreachable, all := sf.PrepareUnreachable()
		if !all || len(unreachable) == 0 || slices.Contains(unreachable, w.self) {
			return
		}
		exclude = append(exclude, unreachable...)
	}
}

// pickSigners chooses k committee members: self, then the members after
// it in committee order (wrapping round), skipping excluded ones. Homes
// spread their sessions over the committee instead of all leaning on its
// first member; with n = 5 and t = 1, node1 signs with node2 and node3
// with node4, pairs that share no node (the limits hold all the same: they
// are counted by the replicated log, not by the pair).
func pickSigners(committee []string, k int, self string, exclude []string) []string {
	at := slices.Index(committee, self)
	if at < 0 {
		return nil
	}
	out := []string{self}
	for i := 1; i < len(committee) && len(out) < k; i++ {
		if c := committee[(at+i)%len(committee)]; !slices.Contains(exclude, c) {
			out = append(out, c)
		}
	}
	if len(out) < k {
		return nil
	}
	slices.Sort(out)
	return out
}
