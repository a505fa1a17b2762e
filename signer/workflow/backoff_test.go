package workflow

import (
	"fmt"
	"testing"
	"time"
)

// A failed request waits longer after each failure, never more than a
// minute, and is never given up: a failure is not an outcome.
func TestBackoff(t *testing.T) {
	want := []time.Duration{3 * time.Second, 3 * time.Second, 6 * time.Second, 12 * time.Second, 24 * time.Second, 48 * time.Second, time.Minute, time.Minute}
	for attempts, w := range want {
		if got := backoff(attempts); got != w {
			t.Errorf("backoff(%d) = %s, want %s", attempts, got, w)
		}
	}
	if got := backoff(1000); got != maxBackoff {
		t.Errorf("backoff(1000) = %s", got)
	}
}

// The wait after a failure is the backoff plus a jitter of up to a
// quarter of it, the same on every look at one request and attempt, and
// spread across requests.
func TestRetryJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := range 200 {
		id := fmt.Sprint("req-", i)
		d := retryAfter(id, 3)
		if d < backoff(3) || d > backoff(3)*5/4 || d != retryAfter(id, 3) {
			t.Fatalf("%s: %s for a backoff of %s", id, d, backoff(3))
		}
		seen[d] = true
	}
	if len(seen) < 150 {
		t.Fatalf("200 requests share %d retry times", len(seen))
	}
}
