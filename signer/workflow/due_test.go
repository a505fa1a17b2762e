package workflow

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The queue hands out what is due, earliest first, each request once at
// its latest due time; moved and dropped requests leave nothing behind.
func TestDueQueue(t *testing.T) {
	q := newDueQueue()
	t0 := time.Unix(1_000_000, 0)
	q.set("a", t0.Add(3*time.Second))
	q.set("b", t0.Add(time.Second))
	q.set("c", t0.Add(2*time.Second))
	q.set("a", t0.Add(500*time.Millisecond)) // moved earlier
	q.set("c", t0.Add(time.Hour))            // moved later
	q.set("d", t0)
	q.drop("d")
	if at, ok := q.next(); !ok || !at.Equal(t0.Add(500*time.Millisecond)) {
		t.Fatalf("next = %v %v", at, ok)
	}
	if got := q.popDue(t0.Add(2 * time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("due at +2s: %v", got)
	}
	if got := q.popDue(t0.Add(59 * time.Minute)); len(got) != 0 {
		t.Fatalf("c was moved to +1h but came out: %v", got)
	}
	if q.len() != 1 || !q.has("c") || q.has("a") {
		t.Fatalf("left: %d", q.len())
	}
	q.all(t0)
	if got := q.popDue(t0); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("all: %v", got)
	}
	if _, ok := q.next(); ok {
		t.Fatal("empty queue has a next")
	}
}

// A request moved many times does not grow the heap without bound.
func TestDueQueueCompacts(t *testing.T) {
	q := newDueQueue()
	t0 := time.Unix(1_000_000, 0)
	for i := range 10_000 {
		q.set(fmt.Sprint("r", i%10), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if len(q.h) > 64+2*10 {
		t.Fatalf("heap holds %d entries for 10 requests", len(q.h))
	}
	if got := q.popDue(t0.Add(time.Hour)); len(got) != 10 {
		t.Fatalf("popped %d", len(got))
	}
}
