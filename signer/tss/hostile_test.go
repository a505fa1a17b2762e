package tss

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// rewriteRound1 returns a mutation that rewrites the keygen round-1
// broadcast of node from with edit, re-encoded as tss-lib would send it.
func rewriteRound1(t *testing.T, s *Session, from string, edit func(*keygen.KGRound1Message)) func(string, string, Envelope) Envelope {
	return func(sender, _ string, env Envelope) Envelope {
		if sender != from || !env.Broadcast {
			return env
		}
		pid := s.all[keyHex(env.From)]
		msg, err := tsslib.ParseWireMessage(env.Payload, pid, env.Broadcast)
		if err != nil {
			t.Errorf("parse own message: %v", err)
			return env
		}
		c, ok := msg.Content().(*keygen.KGRound1Message)
		if !ok {
			return env
		}
		edit(c)
		routing := tsslib.MessageRouting{From: pid, IsBroadcast: true}
		wire, _, err := tsslib.NewMessage(routing, c, tsslib.NewMessageWrapper(routing, c)).WireBytes()
		if err != nil {
			t.Errorf("re-encode: %v", err)
			return env
		}
		env.Payload = wire
		return env
	}
}

// A keygen party that announces hostile Paillier or ring-Pedersen
// parameters — an even modulus makes tss-lib's modulus proof check panic
// in a goroutine no recover reaches — fails the session on every honest
// node, names the sender, and leaves the process running.
func TestHostileKeygenParameters(t *testing.T) {
	pps := fixtures(t)
	nodes := []string{"n1", "n2", "n3"}
	plusOne := func(b []byte) []byte { return new(big.Int).Add(new(big.Int).SetBytes(b), big.NewInt(1)).Bytes() }
	for _, c := range []struct {
		name string
		edit func(*keygen.KGRound1Message)
		want string
	}{
		{"fail/even Paillier modulus (N+1)", func(m *keygen.KGRound1Message) { m.PaillierN = plusOne(m.PaillierN) }, "Paillier modulus is even"},
		{"fail/short Paillier modulus", func(m *keygen.KGRound1Message) { m.PaillierN = m.PaillierN[1:] }, "bits"},
		{"fail/even NTilde", func(m *keygen.KGRound1Message) { m.NTilde = plusOne(m.NTilde) }, "NTilde is even"},
		{"fail/h1 = 1", func(m *keygen.KGRound1Message) { m.H1 = []byte{1} }, "h1 is outside"},
		{"fail/h2 = NTilde", func(m *keygen.KGRound1Message) { m.H2 = m.NTilde }, "h2 is outside"},
		{"fail/h1 = h2", func(m *keygen.KGRound1Message) { m.H2 = m.H1 }, "h1 equals h2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			net := newMemNet()
			sid := []byte("hostile-" + c.name)
			for i, n := range nodes {
				s, err := NewKeygen(KeygenConfig{SessionID: sid, Cluster: "test", Self: n, KeyID: "k", Threshold: 1, Nodes: nodes,
					PreParams: pps[i], Confirm: testConfirmer{n}, Log: discard})
				if err != nil {
					t.Fatal(err)
				}
				net.add(n, s)
			}
			net.mutate = rewriteRound1(t, net.sessions["n3"], "n3", c.edit)
			// the honest nodes fail at once; the hostile one is then stopped
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan outcome, len(nodes))
			for _, n := range nodes {
				go func() {
					_, err := net.sessions[n].Run(ctx, memTransport{net: net, from: n}, nil)
					done <- outcome{node: n, err: err}
				}()
			}
			out := map[string]outcome{}
			for len(out) < 2 {
				o := <-done
				if o.node != "n3" {
					out[o.node] = o
				}
			}
			cancel()
			// every honest node fails; the one that read the message first
			// names n3 (the other may fail on its aborted peer first)
			named := 0
			for _, n := range []string{"n1", "n2"} {
				err := out[n].err
				if err == nil {
					t.Fatalf("%s finished a keygen with hostile parameters", n)
				}
				if errors.Is(err, ErrBadMessage) && slices.Equal(culprits(err), []string{"n3"}) && strings.Contains(err.Error(), c.want) {
					named++
				}
			}
			if named == 0 {
				t.Fatalf("no honest node named n3 for %q: n1: %v; n2: %v", c.want, out["n1"].err, out["n2"].err)
			}
		})
	}
}
