package tss

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func copyShare(t testing.TB, sh *Share) *Share {
	t.Helper()
	b, err := MarshalShare(sh)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := CompressedPubKey(sh.PublicKey())
	out, err := UnmarshalShare(b, pub)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type key struct {
	id        string
	gen       uint32
	threshold int
	committee []string
	shares    map[string]*Share
	pub       []byte
}

func keygenInProcess(t testing.TB, pps []*PreParams, id string, nodes []string, threshold int) key {
	t.Helper()
	net := newMemNet()
	sid := []byte("keygen-" + id)
	for i, n := range nodes {
		s, err := NewKeygen(KeygenConfig{SessionID: sid, Cluster: "test", Self: n, KeyID: id, Threshold: threshold, Nodes: nodes, PreParams: pps[i], Confirm: testConfirmer{n}, Log: discard})
		if err != nil {
			t.Fatal(err)
		}
		net.add(n, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := runAll(ctx, net, nodes)
	k := key{id: id, threshold: threshold, committee: nodes, shares: map[string]*Share{}}
	for _, n := range nodes {
		o := out[n]
		if o.err != nil {
			t.Fatalf("keygen on %s: %v", n, o.err)
		}
		pub, _ := CompressedPubKey(o.res.PublicKey)
		if k.pub == nil {
			k.pub = pub
		} else if !bytes.Equal(k.pub, pub) {
			t.Fatalf("node %s got another public key", n)
		}
		k.shares[n] = o.res.Share
	}
	return k
}

func signSessions(t testing.TB, k key, signers []string, path []uint32, digest [32]byte) *memNet {
	t.Helper()
	net := newMemNet()
	for _, n := range signers {
		s, err := NewSign(SignConfig{SessionID: []byte("sign"), Cluster: "test", Self: n, KeyID: k.id, Generation: k.gen, Threshold: k.threshold,
			Committee: k.committee, Signers: signers, Share: copyShare(t, k.shares[n]), ChainCode: ChainCode(k.pub), Path: path, Digest: digest, Log: discard})
		if err != nil {
			t.Fatalf("new sign on %s: %v", n, err)
		}
		net.add(n, s)
	}
	return net
}

func signInProcess(t *testing.T, k key, signers []string, path []uint32, digest [32]byte) (*ecdsa.PublicKey, *Signature) {
	t.Helper()
	net := signSessions(t, k, signers, path, digest)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := runAll(ctx, net, signers)
	var pub *ecdsa.PublicKey
	var sig *Signature
	for _, n := range signers {
		if out[n].err != nil {
			t.Fatalf("sign on %s: %v", n, out[n].err)
		}
		pub, sig = out[n].res.PublicKey, out[n].res.Signature
	}
	return pub, sig
}

// TestKeyLifecycle: a 2-of-3 keygen; every pair signs; a child key signs;
// reshare to a changed committee keeps the key; new shares sign.
func TestKeyLifecycle(t *testing.T) {
	pps := fixtures(t)
	nodes := []string{"n1", "n2", "n3"}
	k := keygenInProcess(t, pps, "hot", nodes, 1)
	master, err := ParsePubKey(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][]string{{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}} {
		t.Run("ok/sign "+pair[0]+"+"+pair[1], func(t *testing.T) {
			d := sha256.Sum256([]byte("pair " + pair[0] + pair[1]))
			pub, sig := signInProcess(t, k, pair, nil, d)
			if !pub.Equal(master) || !ecdsa.Verify(master, d[:], sig.R, sig.S) {
				t.Fatal("signature does not verify under the master key")
			}
		})
	}
	t.Run("ok/child key m/0/7", func(t *testing.T) {
		d := sha256.Sum256([]byte("child"))
		path := []uint32{0, 7}
		_, want, err := Derive(master, ChainCode(k.pub), path)
		if err != nil {
			t.Fatal(err)
		}
		pub, sig := signInProcess(t, k, []string{"n3", "n1"}, path, d)
		if !pub.Equal(want) || pub.Equal(master) || !ecdsa.Verify(want, d[:], sig.R, sig.S) {
			t.Fatal("child signature does not verify under the derived key")
		}
	})
	t.Run("fail/one signer", func(t *testing.T) {
		_, err := NewSign(SignConfig{SessionID: []byte("x"), Cluster: "test", Self: "n1", KeyID: k.id, Threshold: 1, Committee: nodes,
			Signers: []string{"n1"}, Share: copyShare(t, k.shares["n1"]), ChainCode: ChainCode(k.pub)})
		if err == nil {
			t.Fatal("a single node started a signing session")
		}
	})
	t.Run("fail/committee names a party the share was never dealt to", func(t *testing.T) {
		// a ledger record that disagrees with the share (say, after a bad
		// restore) must be refused, not make tss-lib panic
		_, err := NewSign(SignConfig{SessionID: []byte("x"), Cluster: "test", Self: "n1", KeyID: k.id, Threshold: 1, Committee: append(nodes, "n4"),
			Signers: []string{"n1", "n4"}, Share: copyShare(t, k.shares["n1"]), ChainCode: ChainCode(k.pub)})
		if !errors.Is(err, ErrBadShare) {
			t.Fatalf("got %v, want ErrBadShare", err)
		}
	})
	t.Run("fail/share with inconsistent per-party lists", func(t *testing.T) {
		sh := copyShare(t, k.shares["n2"])
		sh.Data.BigXj = sh.Data.BigXj[:len(sh.Data.BigXj)-1]
		b, _ := json.Marshal(sh.Data)
		if _, err := UnmarshalShare(b, k.pub); !errors.Is(err, ErrBadShare) {
			t.Fatalf("got %v, want ErrBadShare", err)
		}
		if _, err := UnmarshalShare([]byte(`{"Xi": 12345678901234567890x}`), k.pub); !errors.Is(err, ErrBadShare) || strings.Contains(err.Error(), "1234567890") {
			t.Fatalf("malformed share: %v", err)
		}
	})
	t.Run("fail/hardened path", func(t *testing.T) {
		if _, _, err := Derive(master, ChainCode(k.pub), []uint32{1 << 31}); err == nil {
			t.Fatal("hardened derivation accepted")
		}
	})

	// Reshare {n1,n2,n3} t=1 → {n2,n3,n4} t=2, old signers n1,n2: n2 sits
	// in both committees and routes to itself.
	newNodes := []string{"n2", "n3", "n4"}
	net := newMemNet()
	sid := []byte("reshare")
	participants := []string{"n1", "n2", "n3", "n4"}
	for i, n := range participants {
		cfg := ReshareConfig{SessionID: sid, Cluster: "test", Self: n, KeyID: k.id, OldGeneration: 0, OldThreshold: 1, OldCommittee: nodes,
			OldSigners: []string{"n1", "n2"}, NewNodes: newNodes, NewThreshold: 2, Log: discard}
		if n == "n1" || n == "n2" {
			cfg.Share = copyShare(t, k.shares[n])
		}
		if slices.Contains(newNodes, n) {
			cfg.PreParams = pps[3+i]
		}
		s, err := NewReshare(cfg)
		if err != nil {
			t.Fatal(err)
		}
		net.add(n, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := runAll(ctx, net, participants)
	k2 := key{id: k.id, gen: 1, threshold: 2, committee: newNodes, shares: map[string]*Share{}, pub: k.pub}
	for _, n := range participants {
		if out[n].err != nil {
			t.Fatalf("reshare on %s: %v", n, out[n].err)
		}
		if !out[n].res.PublicKey.Equal(master) {
			t.Fatalf("reshare changed the public key on %s", n)
		}
		if slices.Contains(newNodes, n) {
			k2.shares[n] = out[n].res.Share
		} else if out[n].res.Share != nil {
			t.Fatalf("%s left the committee but got a share", n)
		}
	}
	t.Run("ok/new committee signs", func(t *testing.T) {
		d := sha256.Sum256([]byte("after reshare"))
		_, sig := signInProcess(t, k2, newNodes, nil, d)
		if !ecdsa.Verify(master, d[:], sig.R, sig.S) {
			t.Fatal("new shares do not sign for the same key")
		}
	})
	t.Run("fail/new threshold needs three", func(t *testing.T) {
		_, err := NewSign(SignConfig{SessionID: []byte("x"), Cluster: "test", Self: "n2", KeyID: k.id, Generation: 1, Threshold: 2, Committee: newNodes,
			Signers: []string{"n2", "n3"}, Share: copyShare(t, k2.shares["n2"]), ChainCode: ChainCode(k.pub)})
		if err == nil {
			t.Fatal("two parties started a 3-of-3 signature")
		}
	})
	t.Run("fail/old share does not fit the new generation", func(t *testing.T) {
		_, err := NewSign(SignConfig{SessionID: []byte("x"), Cluster: "test", Self: "n2", KeyID: k.id, Generation: 1, Threshold: 2, Committee: newNodes,
			Signers: newNodes, Share: copyShare(t, k.shares["n2"]), ChainCode: ChainCode(k.pub)})
		if err == nil {
			t.Fatal("an old-generation share joined a new-generation session")
		}
	})
	t.Run("faults", func(t *testing.T) { testFaults(t, k) })
	t.Run("withheld", func(t *testing.T) { testWithheld(t, k) })
	t.Run("fail/a party on another session nonce", func(t *testing.T) { testNonceMismatch(t, k) })
	t.Run("fail/variable-time arithmetic", func(t *testing.T) { testVariableTimeRefused(t, k) })
}
