package tss

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
)

// A keygen party that sends one thing to some parties and another to
// others (equivocates) makes the honest parties' broadcast transcripts
// differ: no node gets a key, though tss-lib alone would hand some of them
// one.
func TestKeygenEquivocation(t *testing.T) {
	pps := fixtures(t)
	nodes := []string{"n1", "n2", "n3"}
	run := func(t *testing.T, name string, mutate func(s *Session) func(from, to string, env Envelope) Envelope) map[string]outcome {
		net := newMemNet()
		for i, n := range nodes {
			s, err := NewKeygen(KeygenConfig{SessionID: []byte("equivocate-" + name), Cluster: "test", Self: n, KeyID: "k", Threshold: 1, Nodes: nodes,
				PreParams: pps[i], Confirm: testConfirmer{n}, Log: discard})
			if err != nil {
				t.Fatal(err)
			}
			net.add(n, s)
		}
		net.mutate = mutate(net.sessions["n3"])
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		out := runAll(ctx, net, nodes)
		for _, n := range nodes {
			if out[n].err == nil || out[n].res != nil {
				t.Errorf("%s got a key from an equivocated keygen", n)
			}
		}
		return out
	}
	t.Run("fail/n3 commits to one thing before n1 and another before n2", func(t *testing.T) {
		out := run(t, "commitment", func(s *Session) func(string, string, Envelope) Envelope {
			return rewriteRound1For(t, s, "n3", "n1", func(m *keygen.KGRound1Message) {
				m.Commitment = make([]byte, 32)
				_, _ = rand.Read(m.Commitment)
			})
		})
		// n1 sees the decommitment fail and names n3; n2 and n3 finish
		// tss-lib's rounds but wait in vain for n1's confirmation
		if got := culprits(out["n1"].err); !slices.Equal(got, []string{"n3"}) {
			t.Fatalf("n1 blames %v (%v)", got, out["n1"].err)
		}
	})
	t.Run("fail/n3 sends n1 other bytes that tss-lib reads alike", func(t *testing.T) {
		out := run(t, "bytes", func(s *Session) func(string, string, Envelope) Envelope {
			return func(from, to string, env Envelope) Envelope {
				if from == "n3" && to == "n1" && env.Broadcast && !bytes.HasPrefix(env.Payload, confirmMagic) {
					// an unknown protobuf field (127, varint 1): parsed the
					// same, hashed otherwise
					env.Payload = append(slices.Clone(env.Payload), 0xf8, 0x07, 0x01)
				}
				return env
			}
		})
		for _, n := range nodes {
			if !strings.Contains(out[n].err.Error(), "differs") {
				t.Fatalf("%s failed for another reason: %v", n, out[n].err)
			}
			if len(culprits(out[n].err)) != 0 {
				t.Fatalf("%s blames %v; no single party knows who equivocated", n, culprits(out[n].err))
			}
		}
	})
}

// rewriteRound1For rewrites from's keygen round-1 broadcast as seen by to
// alone.
func rewriteRound1For(t *testing.T, s *Session, from, to string, edit func(*keygen.KGRound1Message)) func(string, string, Envelope) Envelope {
	rewrite := rewriteRound1(t, s, from, edit)
	return func(sender, recipient string, env Envelope) Envelope {
		if recipient != to {
			return env
		}
		return rewrite(sender, recipient, env)
	}
}
