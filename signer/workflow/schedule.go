package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// maxWait bounds how long an open request goes without a look, and
// rescanEvery how often the open index is read for requests the queue
// does not hold (after a snapshot restore, say). Conditions the due
// times do not capture (a policy version or a whitelist entry becoming
// active, an approval aging out) are seen within maxWait; a decision is
// made afresh before anything is signed whatever the schedule.
const (
	maxWait     = time.Minute
	rescanEvery = time.Minute
)

// Schedule drives this node's open requests (it is their home): each is
// looked at when the log changes it (Wake), when a new policy version
// arrives (WakeAll), or when the time its due-time index names comes (a
// timelock passing, an expiry, a retry after its backoff, a session
// going stale). An idle node sleeps; a pass costs what is due, never the
// history.
func (w *Workflow) Schedule(ctx context.Context) {
	w.rescan()
	lastScan := w.now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := lastScan.Add(rescanEvery)
		if at, ok := w.due.next(); ok && at.Before(next) {
			next = at
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(next.Sub(w.now()), 0))
		select {
		case <-ctx.Done():
			return
		case id := <-w.wake:
			w.look(ctx, id, w.now())
			continue
		case <-w.wakeAll:
			w.due.all(w.now())
		case <-timer.C:
		}
		now := w.now()
		if !now.Before(lastScan.Add(rescanEvery)) {
			w.rescan()
			lastScan = now
		}
		w.Pass(ctx, now)
	}
}

// Pass looks at every request due at or before now and returns how many
// it looked at.
func (w *Workflow) Pass(ctx context.Context, now time.Time) int {
	ids := w.due.popDue(now)
	for _, id := range ids {
		w.look(ctx, id, now)
	}
	return len(ids)
}

// WakeAll makes every open request due now: a new policy version may
// change any decision. It never blocks.
func (w *Workflow) WakeAll() {
	select {
	case w.wakeAll <- struct{}{}:
	default:
	}
}

// rescan queues, due now, every open request of this node the queue does
// not hold. It reads the open index's keys only.
func (w *Workflow) rescan() {
	ids, err := w.store.OpenTransferIDs(w.self)
	if err != nil {
		w.log.Error("read open requests", "err", err)
		return
	}
	now := w.now()
	for _, id := range ids {
		if !w.due.has(id) {
			w.due.set(id, now)
		}
	}
}

// look acts on one request and queues it for its next look, or forgets
// it when it is final or not this node's.
func (w *Workflow) look(ctx context.Context, id string, now time.Time) {
	tr, err := w.store.Transfer(id)
	if err != nil {
		if errors.Is(err, ledger.ErrTransferNotFound) {
			w.forget(id)
		} else {
			w.due.set(id, now.Add(retryBackoff)) // a store error: look again soon
		}
		return
	}
	if tr.Home != w.self || tr.State.Final() {
		w.forget(id)
		return
	}
	next := w.act(ctx, tr, now)
	if next.IsZero() {
		w.forget(id)
		return
	}
	w.due.set(id, next)
}

// forget drops what the scheduler keeps about a request that is over, so
// that nothing it holds grows with the history.
func (w *Workflow) forget(id string) {
	w.due.drop(id)
	w.retryAt.Delete(id)
}

// act does what one open request needs now (re-evaluate it, start or
// resume its session) and returns when it next needs a look (zero: it is
// final).
func (w *Workflow) act(ctx context.Context, tr ledger.Transfer, now time.Time) time.Time {
	later := now.Add(maxWait)
	soonest := func(ts ...time.Time) time.Time {
		m := later
		for _, t := range ts {
			if !t.IsZero() && t.Before(m) {
				m = t
			}
		}
		if floor := now.Add(10 * time.Millisecond); m.Before(floor) {
			return floor
		}
		return m
	}
	expiry := tr.ExpiresAt.Add(time.Millisecond) // reevaluate expires it once now is after ExpiresAt
	if _, busy := w.driving.Load(tr.ID); busy {
		return later // drive wakes it when the session is over
	}
	switch tr.State {
	case ledger.StateSigning:
		if w.gate.Stale(tr, now) {
			if retry := tr.UpdatedAt.Add(retryAfter(tr.ID, tr.Attempts)); tr.Reservation.Silent && now.Before(retry) {
				return soonest(retry)
			}
			go w.drive(tr.ID)
			return later
		}
		if tr.Reservation != nil {
			return soonest(tr.Reservation.At.Add(w.gate.StaleAfter() + time.Millisecond))
		}
		return later
	case ledger.StateFailed:
		if retry := tr.UpdatedAt.Add(retryAfter(tr.ID, tr.Attempts)); now.Before(retry) {
			if now.After(tr.ExpiresAt) {
				if next, err := w.reevaluate(ctx, tr, now); err == nil && next.State.Final() {
					return time.Time{}
				}
				return soonest(now.Add(retryBackoff))
			}
			return soonest(retry, expiry)
		}
	}
	if at, ok := w.retryAt.Load(tr.ID); ok && now.Before(at.(time.Time)) {
		return soonest(at.(time.Time), expiry)
	}
	next, err := w.reevaluate(ctx, tr, now)
	if err != nil {
		return soonest(now.Add(retryBackoff)) // transient (store, keys, no policy)
	}
	switch {
	case next.State.Final():
		return time.Time{}
	case next.State == ledger.StateReady || next.State == ledger.StateFailed:
		go w.drive(next.ID)
		return later
	case next.State == ledger.StateTimelocked:
		return soonest(next.NotBefore.Add(time.Millisecond), expiry)
	}
	return soonest(expiry)
}

// PassAll looks at every open request of this node now, whatever its due
// time, and returns how many it looked at: the most a pass ever does
// (benchmarks measure it; the scheduler itself only looks at what is due).
func (w *Workflow) PassAll(ctx context.Context, now time.Time) int {
	w.rescan()
	w.due.all(now)
	return w.Pass(ctx, now)
}
