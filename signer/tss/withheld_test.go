package tss

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"testing"
	"time"

	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// testWithheld: a party that gathers the others' last-round shares and
// withholds its own holds a valid signature, while the honest party fails
// by its deadline. The honest session reports itself exposed, so the node
// keeps what the request reserved; a session that fails earlier does not.
func testWithheld(t *testing.T, k key) {
	d := sha256.Sum256([]byte("withheld"))
	signers := []string{"n1", "n2"}
	run := func(t *testing.T, round int) (honest outcome, rogue outcome, exposed bool) {
		net := signSessions(t, k, signers, nil, d)
		net.withhold = func(from, _ string, env Envelope) bool {
			if from != "n2" {
				return false
			}
			msg, err := tsslib.ParseWireMessage(env.Payload, net.sessions[from].all[keyHex(env.From)], env.Broadcast)
			return err == nil && roundOf(msg.Type()) >= round
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out := runAll(ctx, net, signers)
		return out["n1"], out["n2"], net.sessions["n1"].Exposed()
	}
	t.Run("fail/n2 withholds its last-round share: n1 fails exposed, n2 holds a signature", func(t *testing.T) {
		honest, rogue, exposed := run(t, SignRounds)
		if honest.err == nil || !exposed {
			t.Fatalf("n1: err %v, exposed %v", honest.err, exposed)
		}
		if rogue.err != nil || rogue.res == nil || !ecdsa.Verify(rogue.res.PublicKey, d[:], rogue.res.Signature.R, rogue.res.Signature.S) {
			t.Fatalf("n2 should hold a valid signature: %v", rogue.err)
		}
	})
	t.Run("ok/a session cut before the last round is not exposed", func(t *testing.T) {
		honest, _, exposed := run(t, 3)
		if honest.err == nil || exposed {
			t.Fatalf("n1: err %v, exposed %v", honest.err, exposed)
		}
	})
}
