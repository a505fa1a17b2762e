package tss

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSessionNonces(t *testing.T) {
	d := sha256.Sum256([]byte("d"))
	d2 := sha256.Sum256([]byte("d2"))
	sid := []byte("sid")
	base := SignNonce("c", "hot", 0, sid, d, []string{"n1", "n2"}, []uint32{1})
	if base.Cmp(SignNonce("c", "hot", 0, sid, d, []string{"n2", "n1"}, []uint32{1})) != 0 {
		t.Fatal("ok/signers in another order: nonce changed")
	}
	differs := []struct {
		name  string
		nonce func() []byte
	}{
		{"cluster", func() []byte { return SignNonce("c2", "hot", 0, sid, d, []string{"n1", "n2"}, []uint32{1}).Bytes() }},
		{"key", func() []byte { return SignNonce("c", "cold", 0, sid, d, []string{"n1", "n2"}, []uint32{1}).Bytes() }},
		{"generation", func() []byte { return SignNonce("c", "hot", 1, sid, d, []string{"n1", "n2"}, []uint32{1}).Bytes() }},
		{"session", func() []byte {
			return SignNonce("c", "hot", 0, []byte("sie"), d, []string{"n1", "n2"}, []uint32{1}).Bytes()
		}},
		{"digest", func() []byte { return SignNonce("c", "hot", 0, sid, d2, []string{"n1", "n2"}, []uint32{1}).Bytes() }},
		{"signers", func() []byte { return SignNonce("c", "hot", 0, sid, d, []string{"n1", "n3"}, []uint32{1}).Bytes() }},
		{"path", func() []byte { return SignNonce("c", "hot", 0, sid, d, []string{"n1", "n2"}, []uint32{2}).Bytes() }},
		{"no path", func() []byte { return SignNonce("c", "hot", 0, sid, d, []string{"n1", "n2"}, nil).Bytes() }},
		{"field boundaries", func() []byte { return SignNonce("ch", "ot", 0, sid, d, []string{"n1", "n2"}, []uint32{1}).Bytes() }},
		{"keygen tag", func() []byte { return KeygenNonce("c", "hot", sid, 1, []string{"n1", "n2"}).Bytes() }},
		{"reshare tag", func() []byte {
			return ReshareNonce("c", "hot", 0, sid, 1, []string{"n1", "n2"}, 1, []string{"n1", "n2"}).Bytes()
		}},
	}
	for _, tc := range differs {
		t.Run("ok/"+tc.name+" changes the nonce", func(t *testing.T) {
			if slices.Equal(tc.nonce(), base.Bytes()) {
				t.Fatalf("changing the %s left the nonce as it was", tc.name)
			}
		})
	}
}

// testNonceMismatch: a party that runs a session under another session
// nonce (as a peer replaying proofs made for another session would) makes
// the session fail, is named as the culprit by every honest party, and
// nothing is signed.
func testNonceMismatch(t *testing.T, k key) {
	d := sha256.Sum256([]byte("nonce mismatch"))
	signers := []string{"n1", "n2", "n3"}
	net := newMemNet()
	for _, n := range signers {
		cluster := "test"
		if n == "n2" {
			cluster = "another session's cluster" // only its nonce differs
		}
		s, err := NewSign(SignConfig{SessionID: []byte("sign"), Cluster: cluster, Self: n, KeyID: k.id, Generation: k.gen,
			Threshold: k.threshold, Committee: k.committee, Signers: signers, Share: copyShare(t, k.shares[n]),
			ChainCode: ChainCode(k.pub), Digest: d, Log: discard})
		if err != nil {
			t.Fatal(err)
		}
		net.add(n, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := runAll(ctx, net, signers)
	for _, n := range signers {
		if out[n].err == nil || out[n].res != nil {
			t.Fatalf("%s finished a session with a party on another nonce", n)
		}
	}
	t.Logf("n1: %v", out["n1"].err)
	for _, honest := range []string{"n1", "n3"} {
		if got := culprits(out[honest].err); !slices.Equal(got, []string{"n2"}) {
			t.Fatalf("%s names %v, want [n2] (err %v)", honest, got, out[honest].err)
		}
		if errors.Is(out[honest].err, context.DeadlineExceeded) {
			t.Fatalf("%s only timed out: %v", honest, out[honest].err)
		}
	}
}

func TestConstantTimeIsOn(t *testing.T) {
	if !ConstantTime() {
		t.Fatal("tss-lib's constant-time arithmetic is off in a process that imports the adapter")
	}
}

// testVariableTimeRefused: with constant-time arithmetic switched off no
// session starts.
func testVariableTimeRefused(t *testing.T, k key) {
	common := func() error {
		_, err := NewSign(SignConfig{SessionID: []byte("x"), Cluster: "test", Self: "n1", KeyID: k.id, Threshold: 1,
			Committee: k.committee, Signers: []string{"n1", "n2"}, Share: copyShare(t, k.shares["n1"]), ChainCode: ChainCode(k.pub)})
		return err
	}
	disableConstantTime()
	defer enableConstantTime()
	if err := common(); !errors.Is(err, ErrVariableTime) {
		t.Fatalf("sign with constant-time off: got %v, want ErrVariableTime", err)
	}
	if _, err := NewKeygen(KeygenConfig{SessionID: []byte("x"), Cluster: "test", Self: "n1", KeyID: "k", Threshold: 1, Nodes: k.committee}); !errors.Is(err, ErrVariableTime) {
		t.Fatalf("keygen with constant-time off: got %v, want ErrVariableTime", err)
	}
	if _, err := NewReshare(ReshareConfig{SessionID: []byte("x"), Cluster: "test", Self: "n1", KeyID: "k"}); !errors.Is(err, ErrVariableTime) {
		t.Fatalf("reshare with constant-time off: got %v, want ErrVariableTime", err)
	}
}
