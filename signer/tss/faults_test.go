package tss

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// testFaults: bad peer messages abort only their session and name the
// sender; a silent peer makes the session fail by its deadline.
func testFaults(t *testing.T, k key) {
	d := sha256.Sum256([]byte("faults"))
	signers := []string{"n1", "n2"}
	partyOf := func(node string) []byte { return PartyKey(k.id, k.gen, node).Bytes() }
	tests := []struct {
		name   string
		from   string
		env    func(sid []byte) Envelope
		wantBy string
	}{
		{"fail/garbage payload", "n2", func(sid []byte) Envelope {
			return Envelope{Session: sid, From: partyOf("n2"), To: [][]byte{partyOf("n1")}, Payload: []byte("\xff\x00garbage")}
		}, "n2"},
		{"fail/oversized payload", "n2", func(sid []byte) Envelope {
			return Envelope{Session: sid, From: partyOf("n2"), To: [][]byte{partyOf("n1")}, Payload: make([]byte, MaxPayload+1)}
		}, "n2"},
		{"fail/claims another party", "n3", func(sid []byte) Envelope {
			return Envelope{Session: sid, From: partyOf("n2"), To: [][]byte{partyOf("n1")}, Payload: []byte{1}}
		}, "n3"},
		{"fail/addressed to a party not here", "n2", func(sid []byte) Envelope {
			return Envelope{Session: sid, From: partyOf("n2"), To: [][]byte{partyOf("n3")}, Payload: []byte{1}}
		}, "n2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net := signSessions(t, k, signers, nil, d)
			s := net.sessions["n1"]
			_ = s.Deliver(tc.from, tc.env(s.ID()))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := runAll(ctx, net, []string{"n1"})
			if out["n1"].err == nil {
				t.Fatal("session survived a bad message")
			}
			if got := culprits(out["n1"].err); !slices.Equal(got, []string{tc.wantBy}) {
				t.Fatalf("culprits = %v, want [%s] (err %v)", got, tc.wantBy, out["n1"].err)
			}
			if !errors.Is(out["n1"].err, ErrBadMessage) {
				t.Fatalf("session failed for another reason: %v", out["n1"].err)
			}
		})
	}
	t.Run("fail/a flood beyond the sender's queue is refused and names it", func(t *testing.T) {
		net := signSessions(t, k, signers, nil, d)
		s := net.sessions["n1"]
		var err error
		sent := 0
		for ; sent < 64 && err == nil; sent++ {
			err = s.Deliver("n2", Envelope{Session: s.ID(), From: partyOf("n2"), To: [][]byte{partyOf("n1")}, Payload: make([]byte, MaxPayload)})
		}
		if err == nil || sent > maxQueuedPerSender/MaxPayload+1 {
			t.Fatalf("%d messages of %d bytes queued from one sender (err %v)", sent, MaxPayload, err)
		}
		if got := culprits(err); !slices.Equal(got, []string{"n2"}) {
			t.Fatalf("culprits = %v, want [n2]", got)
		}
	})
	t.Run("fail/a message sent twice is refused and names its sender", func(t *testing.T) {
		net := signSessions(t, k, signers, nil, d)
		net.mutate = func(from, to string, env Envelope) Envelope {
			if from == "n2" {
				_ = net.sessions[to].Deliver(from, env) // the copy goes first
			}
			return env
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out := runAll(ctx, net, signers)
		if out["n1"].err == nil || !strings.Contains(out["n1"].err.Error(), "second") {
			t.Fatalf("n1 accepted a repeated message: %v", out["n1"].err)
		}
		if got := culprits(out["n1"].err); !slices.Equal(got, []string{"n2"}) {
			t.Fatalf("culprits = %v, want [n2]", got)
		}
	})
	t.Run("fail/silent peer times out and is named", func(t *testing.T) {
		net := signSessions(t, k, signers, nil, d)
		net.drop["n2"] = true
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		out := runAll(ctx, net, []string{"n1"})
		if out["n1"].err == nil || time.Since(start) > 10*time.Second {
			t.Fatalf("session did not fail by its deadline: %v", out["n1"].err)
		}
		if got := culprits(out["n1"].err); !slices.Equal(got, []string{"n2"}) {
			t.Fatalf("culprits = %v, want [n2]", got)
		}
		if !errors.Is(out["n1"].err, context.DeadlineExceeded) {
			t.Fatalf("want a deadline error, got %v", out["n1"].err)
		}
	})
	t.Run("ok/a bad session leaves another running", func(t *testing.T) {
		bad := signSessions(t, k, signers, nil, d)
		_ = bad.sessions["n1"].Deliver("n2", Envelope{From: partyOf("n2"), To: [][]byte{partyOf("n1")}, Payload: []byte("junk")})
		good := signSessions(t, k, signers, nil, d)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		badOut := runAll(ctx, bad, []string{"n1"})
		goodOut := runAll(ctx, good, signers)
		if badOut["n1"].err == nil || goodOut["n1"].err != nil || goodOut["n2"].err != nil {
			t.Fatalf("bad=%v good=%v/%v", badOut["n1"].err, goodOut["n1"].err, goodOut["n2"].err)
		}
	})
}
