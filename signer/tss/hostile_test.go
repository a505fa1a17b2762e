package tss

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bnb-chain/tss-lib/v3/crypto/dlnproof"
	"github.com/bnb-chain/tss-lib/v3/crypto/facproof"
	"github.com/bnb-chain/tss-lib/v3/crypto/modproof"
	"github.com/bnb-chain/tss-lib/v3/crypto/mta"
	"github.com/bnb-chain/tss-lib/v3/crypto/paillier"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/resharing"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/signing"
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

// The values the hostile-peer harness (fuzz_test.go) found to make tss-lib
// panic in a goroutine of its own, each in an otherwise well-formed
// message, are refused at the boundary with the reason.
func TestHostileValuesRefused(t *testing.T) {
	pp := fixtures(t)[0]
	q := secp256k1N.Bytes()
	twoQ := new(big.Int).Lsh(secp256k1N, 1).Bytes()
	gx, gy := tsslib.S256().Params().Gx.Bytes(), tsslib.S256().Params().Gy.Bytes()
	numbers := func(n int, b []byte) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = b
		}
		return out
	}
	// a DLN proof as tss-lib serializes it: 128, α×128, 128, t×128
	dln := func() [][]byte {
		p := numbers(2+2*dlnproof.Iterations, []byte{2})
		p[0], p[1+dlnproof.Iterations] = []byte{dlnproof.Iterations}, []byte{dlnproof.Iterations}
		return p
	}
	kg1 := func(edit func(*keygen.KGRound1Message)) *keygen.KGRound1Message {
		m := &keygen.KGRound1Message{Commitment: []byte{1}, PaillierN: pp.PaillierSK.N.Bytes(), NTilde: pp.NTildei.Bytes(),
			H1: pp.H1i.Bytes(), H2: pp.H2i.Bytes(), Dlnproof_1: dln(), Dlnproof_2: dln()}
		if edit != nil {
			edit(m)
		}
		return m
	}
	dg2 := func(edit func(*resharing.DGRound2Message1)) *resharing.DGRound2Message1 {
		m := &resharing.DGRound2Message1{PaillierN: pp.PaillierSK.N.Bytes(), NTilde: pp.NTildei.Bytes(), H1: pp.H1i.Bytes(), H2: pp.H2i.Bytes(),
			ModProof: numbers(modproof.ProofModBytesParts, []byte{3}), Dlnproof_1: dln(), Dlnproof_2: dln()}
		if edit != nil {
			edit(m)
		}
		return m
	}
	sign2 := func(edit func(*signing.SignRound2Message)) *signing.SignRound2Message {
		m := &signing.SignRound2Message{C1: []byte{5}, C2: []byte{5}, ProofBob: numbers(mta.ProofBobBytesParts, []byte{7}),
			ProofBobWc: append(numbers(mta.ProofBobWCBytesParts-2, []byte{7}), gx, gy)}
		if edit != nil {
			edit(m)
		}
		return m
	}
	from := tsslib.NewPartyID("p", "p", big.NewInt(1))
	for _, c := range []struct {
		name    string
		content tsslib.MessageContent
		want    string
	}{
		{"ok/keygen round 1", kg1(nil), ""},
		// ParseSecrets reads a length prefix with Int64: 2^64-1 is -1
		{"fail/DLN proof length prefix 2^64-1", kg1(func(m *keygen.KGRound1Message) { m.Dlnproof_1[0] = bytes.Repeat([]byte{0xff}, 8) }), "DLN proof 1 length prefix 0"},
		{"fail/DLN proof second length prefix 2^63", kg1(func(m *keygen.KGRound1Message) {
			m.Dlnproof_2[1+dlnproof.Iterations] = []byte{0x80, 0, 0, 0, 0, 0, 0, 0}
		}), "DLN proof 2 length prefix 129"},
		{"fail/DLN proof one element short", kg1(func(m *keygen.KGRound1Message) { m.Dlnproof_1 = m.Dlnproof_1[1:] }), "DLN proof 1 has 257 elements"},
		{"ok/resharing round 2", dg2(nil), ""},
		{"fail/resharing DLN proof length prefix 2^63", dg2(func(m *resharing.DGRound2Message1) {
			m.Dlnproof_2[0] = []byte{0x80, 0, 0, 0, 0, 0, 0, 0}
		}), "DLN proof 2 length prefix 0"},
		// vss.Share.Verify: ScalarBaseMult(0) is the point at infinity
		{"ok/keygen share", &keygen.KGRound2Message1{Share: []byte{5}, FacProof: numbers(facproof.ProofFacBytesParts, []byte{7})}, ""},
		{"fail/keygen share 0", &keygen.KGRound2Message1{Share: []byte{0}, FacProof: numbers(facproof.ProofFacBytesParts, []byte{7})}, "share is not in [1, q)"},
		{"fail/keygen share q", &keygen.KGRound2Message1{Share: q, FacProof: numbers(facproof.ProofFacBytesParts, []byte{7})}, "share is not in [1, q)"},
		{"fail/resharing share 0", &resharing.DGRound3Message1{Share: []byte{0}}, "share is not in [1, q)"},
		// ProofBobWC.Verify: ScalarBaseMult(s1 mod q)
		{"ok/Bob's proof with check", sign2(nil), ""},
		{"fail/Bob's proof with check s1 = q", sign2(func(m *signing.SignRound2Message) { m.ProofBobWc[6] = q }), "s1 is a multiple of q"},
		{"fail/Bob's proof with check s1 = 2q", sign2(func(m *signing.SignRound2Message) { m.ProofBobWc[6] = twoQ }), "s1 is a multiple of q"},
		{"fail/Bob's proof with check u off the curve", sign2(func(m *signing.SignRound2Message) { m.ProofBobWc[11] = gx }), "not a curve point"},
		{"fail/Schnorr proof t = 0", &signing.SignRound4Message{DeCommitment: [][]byte{{1}, gx, gy}, ProofAlphaX: gx, ProofAlphaY: gy, ProofT: []byte{0}},
			"proof t is not in [1, q)"},
		// an exponent of a megabyte keeps a verifier busy for minutes
		{"fail/proof element too long", &keygen.KGRound2Message1{Share: []byte{5}, FacProof: append(numbers(facproof.ProofFacBytesParts-1, []byte{7}),
			new(big.Int).Lsh(big.NewInt(1), maxNumberBits).Bytes())}, "element 10 has 5121 bits"},
		{"fail/Paillier proof element above any modulus", &keygen.KGRound3Message{PaillierProof: append(numbers(paillier.ProofIters-1, []byte{1}),
			new(big.Int).Lsh(big.NewInt(1), modulusBits).Bytes())}, "element 12 has 2049 bits"},
	} {
		t.Run(c.name, func(t *testing.T) {
			routing := tsslib.MessageRouting{From: from, IsBroadcast: true}
			err := checkContent(tsslib.NewMessage(routing, c.content, tsslib.NewMessageWrapper(routing, c.content)))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused a well-formed message: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}
