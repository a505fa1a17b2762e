package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// procKiB reads a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func procKiB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// floodBound is how much node1's peak memory may grow under the flood:
// 128 sessions from one coordinator, each holding at most 1 MiB of one
// sender's messages, gRPC's buffers and the runtime's slack. Without the
// caps the flood below asks node1 to hold 1000 sessions × 6 × 512 KiB =
// 3 GiB.
const floodBound = 512 << 10 // KiB

// testFlood: node3, compromised, sends node1 1000 keygen Prepares and then
// streams of maximal and oversized envelopes into every session node1
// accepted. node1 refuses what is over its caps, its peak memory stays
// within floodBound, and afterwards it still signs a transfer.
func testFlood(t *testing.T, c *devcluster.Cluster, signAfter func(t *testing.T)) {
	pid := c.PID("node1")
	before := procKiB(t, pid, "VmRSS")
	var accepted []string
	var refused, exhausted atomic.Int64
	withCompromisedNode3(t, c, func(p peerpb.PeerClient, _ rogueLog) {
		ctx := context.Background()
		var mu sync.Mutex
		var wg sync.WaitGroup
		work := make(chan int)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					key := fmt.Sprintf("flood-%04d", i)
					spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_KEYGEN, KeyId: key, Threshold: 1, Parties: []string{"node1", "node3"},
						Attempt: []byte{byte(i), byte(i >> 8)}, Coordinator: "node3", DeadlineUnixMs: time.Now().Add(2 * time.Minute).UnixMilli()}
					sid, _ := sessionID(spec)
					_, err := p.Prepare(ctx, &peerpb.PrepareRequest{SessionId: sid, Spec: spec})
					switch {
					case err == nil:
						mu.Lock()
						accepted = append(accepted, string(sid)+"\x00"+key)
						mu.Unlock()
					case status.Code(err) == codes.ResourceExhausted:
						exhausted.Add(1)
					default:
						refused.Add(1)
					}
				}
			}()
		}
		for i := range 1000 {
			work <- i
		}
		close(work)
		wg.Wait()
		t.Logf("flood: 1000 Prepares: %d accepted, %d over the caps, %d refused otherwise", len(accepted), exhausted.Load(), refused.Load())
		if len(accepted) == 0 || len(accepted) > 128 || exhausted.Load() == 0 {
			t.Fatalf("node1 accepted %d sessions from one coordinator (cap 128), %d refused as over the cap", len(accepted), exhausted.Load())
		}

		// into every accepted session: six envelopes of the largest payload
		// a session takes, then one larger than any gRPC message
		var delivered, turnedAway atomic.Int64
		big := make([]byte, ctss.MaxPayload)
		jobs := make(chan string)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for a := range jobs {
					sid, key, _ := strings.Cut(a, "\x00")
					env := &peerpb.Envelope{SessionId: []byte(sid), FromParty: ctss.PartyKey(key, 0, "node3").Bytes(),
						ToParties: [][]byte{ctss.PartyKey(key, 0, "node1").Bytes()}, Broadcast: true, Payload: big}
					for range 6 {
						if _, err := p.Deliver(ctx, env); err == nil {
							delivered.Add(1)
						} else {
							turnedAway.Add(1)
						}
					}
					huge := &peerpb.Envelope{SessionId: []byte(sid), FromParty: env.FromParty, ToParties: env.ToParties, Payload: make([]byte, 5<<20)}
					// node3's client would refuse to send it: lift its limit,
					// so node1's server is what refuses
					if _, err := p.Deliver(ctx, huge, grpc.MaxCallSendMsgSize(8<<20)); status.Code(err) != codes.ResourceExhausted {
						t.Errorf("a 5 MiB envelope: %v, want ResourceExhausted", err)
					}
				}
			}()
		}
		for _, a := range accepted {
			jobs <- a
		}
		close(jobs)
		wg.Wait()
		t.Logf("flood: %d envelopes of %d KiB queued, %d turned away", delivered.Load(), ctss.MaxPayload>>10, turnedAway.Load())
		if delivered.Load() > int64(len(accepted))*2 || turnedAway.Load() == 0 {
			t.Fatalf("node1 queued %d envelopes of 512 KiB in %d sessions: more than 1 MiB from one sender in one session", delivered.Load(), len(accepted))
		}
	})
	if c.PID("node1") != pid {
		t.Fatal("node1 restarted under the flood")
	}
	peak, after := procKiB(t, pid, "VmHWM"), procKiB(t, pid, "VmRSS")
	t.Logf("flood: node1 RSS %d MiB before, peak %d MiB, %d MiB after", before>>10, peak>>10, after>>10)
	fmt.Printf("flood: node1 rss_before_mib=%d peak_mib=%d after_mib=%d\n", before>>10, peak>>10, after>>10)
	if peak-before > floodBound {
		t.Fatalf("node1's peak memory grew by %d MiB under the flood (bound %d MiB)", (peak-before)>>10, floodBound>>10)
	}
	signAfter(t)
}
