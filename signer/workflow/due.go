package workflow

import (
	"container/heap"
	"sync"
	"time"
)

// dueQueue is the home node's index of open requests by the time each
// next needs a look (a timelock passing, an expiry, a retry after its
// backoff, a session going stale). The scheduler sleeps until the
// earliest one; a request nothing is due for costs nothing. Moving a
// request leaves its old heap entry behind, skipped when popped.
type dueQueue struct {
	mu sync.Mutex
	at map[string]time.Time // the current due time of each queued request
	h  dueHeap
}

type dueEntry struct {
	at time.Time
	id string
}

type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newDueQueue() *dueQueue { return &dueQueue{at: map[string]time.Time{}} }

// set makes id due at t (earlier or later than before).
func (q *dueQueue) set(id string, t time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if old, ok := q.at[id]; ok && old.Equal(t) {
		return
	}
	q.at[id] = t
	heap.Push(&q.h, dueEntry{at: t, id: id})
	q.compact()
}

// drop forgets id (it reached a final state, or is not this node's).
func (q *dueQueue) drop(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.at, id)
	q.compact()
}

// has reports whether id is queued.
func (q *dueQueue) has(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.at[id]
	return ok
}

// next is the earliest due time, if any request is queued.
func (q *dueQueue) next() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.h.Len() > 0 {
		e := q.h[0]
		if at, ok := q.at[e.id]; ok && at.Equal(e.at) {
			return e.at, true
		}
		heap.Pop(&q.h) // moved or dropped since
	}
	return time.Time{}, false
}

// popDue removes and returns the requests due at or before now, earliest
// first.
func (q *dueQueue) popDue(now time.Time) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for q.h.Len() > 0 && !q.h[0].at.After(now) {
		e := heap.Pop(&q.h).(dueEntry)
		if at, ok := q.at[e.id]; ok && at.Equal(e.at) {
			delete(q.at, e.id)
			out = append(out, e.id)
		}
	}
	return out
}

// all makes every queued request due at t (a new policy version may
// change any decision).
func (q *dueQueue) all(t time.Time) {
	q.mu.Lock()
	ids := make([]string, 0, len(q.at))
	for id := range q.at {
		ids = append(ids, id)
	}
	q.mu.Unlock()
	for _, id := range ids {
		q.set(id, t)
	}
}

// len is the number of queued requests.
func (q *dueQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.at)
}

// compact rebuilds the heap when stale entries outnumber live ones, so
// a request moved many times does not grow it. Called with mu held.
func (q *dueQueue) compact() {
	if len(q.h) <= 64 || len(q.h) <= 2*len(q.at) {
		return
	}
	h := make(dueHeap, 0, len(q.at))
	for id, at := range q.at {
		h = append(h, dueEntry{at: at, id: id})
	}
	heap.Init(&h)
	q.h = h
}
