package migration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// unsealShare seals node's old-release share encoding in its SoftHSM token
// as a node stores it, then opens and decodes it as a node does for a
// session.
func unsealShare(t *testing.T, f *fixture, node string) *ctss.Share {
	t.Helper()
	ks := keystore(t, node)
	aad := signer.ShareAAD(f.Cluster, node, f.KeyID, f.Generation)
	blob, err := ks.Seal(context.Background(), aad, f.Shares[node])
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ks.Open(context.Background(), aad, blob)
	if err != nil {
		t.Fatalf("unseal %s's share: %v", node, err)
	}
	sh, err := ctss.UnmarshalShare(plain, f.PublicKey)
	if err != nil {
		t.Fatalf("decode %s's share: %v", node, err)
	}
	return sh
}

func unsealPreParams(t *testing.T, f *fixture, node string) *ctss.PreParams {
	t.Helper()
	ks := keystore(t, node)
	aad := signer.PreParamsAAD(f.Cluster, node)
	blob, err := ks.Seal(context.Background(), aad, f.PreParams[node])
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ks.Open(context.Background(), aad, blob)
	if err != nil {
		t.Fatalf("unseal %s's pre-parameters: %v", node, err)
	}
	pp, err := ctss.UnmarshalPreParams(plain)
	if err != nil {
		t.Fatalf("decode %s's pre-parameters: %v", node, err)
	}
	return pp
}

// sign runs one signing session among signers with the given shares and
// returns the signature, verified against pub by the caller.
func sign(t *testing.T, f *fixture, gen uint32, committee []string, shares map[string]*ctss.Share, signers []string, path []uint32, digest [32]byte) (*ecdsa.PublicKey, *ctss.Signature) {
	t.Helper()
	net := newMemNet()
	for _, n := range signers {
		s, err := ctss.NewSign(ctss.SignConfig{
			SessionID: []byte(fmt.Sprintf("migration-sign-%v-%x", signers, digest[:4])), Cluster: f.Cluster, Self: n, KeyID: f.KeyID,
			Generation: gen, Threshold: f.Threshold, Committee: committee, Signers: signers,
			Share: shares[n], KeepShare: true, ChainCode: ctss.ChainCode(f.PublicKey), Path: path,
			Digest: digest, Log: quiet(),
		})
		if err != nil {
			t.Fatalf("new sign on %s: %v", n, err)
		}
		net.add(n, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := runAll(ctx, net)
	if err != nil {
		t.Fatalf("sign with %v: %v", signers, err)
	}
	r := res[signers[0]]
	return r.PublicKey, r.Signature
}

// TestSealedSharesSign: shares sealed in SoftHSM by an older release open
// and sign under this one, with every pair of the 2-of-3 key, on the
// master key and on a child key (the ETH wallets are child keys).
func TestSealedSharesSign(t *testing.T) {
	for _, dir := range fixtureDirs {
		f, err := loadFixture(dir)
		if err != nil {
			t.Fatal(err)
		}
		master, err := ctss.ParsePubKey(f.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		shares := map[string]*ctss.Share{}
		for _, n := range f.Committee {
			shares[n] = unsealShare(t, f, n)
		}
		for _, pair := range [][]string{{"node1", "node2"}, {"node1", "node3"}, {"node2", "node3"}} {
			t.Run(fmt.Sprintf("ok/%s/%s+%s", dir, pair[0], pair[1]), func(t *testing.T) {
				d := sha256.Sum256([]byte("migration " + pair[0] + pair[1]))
				pub, sig := sign(t, f, f.Generation, f.Committee, shares, pair, nil, d)
				if !pub.Equal(master) || !ecdsa.Verify(master, d[:], sig.R, sig.S) {
					t.Fatal("signature does not verify under the fixture's public key")
				}
			})
		}
		t.Run("ok/"+dir+"/child key", func(t *testing.T) {
			d := sha256.Sum256([]byte("migration child"))
			_, want, err := ctss.Derive(master, ctss.ChainCode(f.PublicKey), []uint32{1})
			if err != nil {
				t.Fatal(err)
			}
			pub, sig := sign(t, f, f.Generation, f.Committee, shares, []string{"node3", "node1"}, []uint32{1}, d)
			if !pub.Equal(want) || !ecdsa.Verify(want, d[:], sig.R, sig.S) {
				t.Fatal("child-key signature does not verify under the derived key")
			}
		})
		t.Run("fail/"+dir+"/blob bound to its node", func(t *testing.T) {
			blob, err := keystore(t, "node2").Seal(context.Background(), signer.ShareAAD(f.Cluster, "node2", f.KeyID, f.Generation), f.Shares["node2"])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keystore(t, "node1").Open(context.Background(), signer.ShareAAD(f.Cluster, "node1", f.KeyID, f.Generation), blob); err == nil {
				t.Fatal("node2's sealed share opened in node1's token")
			}
		})
	}
}

// TestSealedShareReshares: an older release's shares reshare to a changed
// committee (node1 leaves, node4 joins) with the pre-parameters that
// release sealed; the key is unchanged and the new shares sign.
func TestSealedShareReshares(t *testing.T) {
	for _, dir := range fixtureDirs {
		f, err := loadFixture(dir)
		if err != nil {
			t.Fatal(err)
		}
		oldSigners := []string{"node1", "node2"}
		newNodes := []string{"node2", "node3", "node4"}
		net := newMemNet()
		for _, n := range []string{"node1", "node2", "node3", "node4"} {
			cfg := ctss.ReshareConfig{
				SessionID: []byte("migration-reshare"), Cluster: f.Cluster, Self: n, KeyID: f.KeyID, OldGeneration: f.Generation,
				OldThreshold: f.Threshold, OldCommittee: f.Committee, OldSigners: oldSigners,
				NewNodes: newNodes, NewThreshold: 1, Log: quiet(),
			}
			if n == "node1" || n == "node2" {
				cfg.Share = unsealShare(t, f, n)
			}
			if n != "node1" {
				cfg.PreParams = unsealPreParams(t, f, n)
			}
			s, err := ctss.NewReshare(cfg)
			if err != nil {
				t.Fatalf("new reshare on %s: %v", n, err)
			}
			net.add(n, s)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		res, err := runAll(ctx, net)
		cancel()
		if err != nil {
			t.Fatalf("reshare: %v", err)
		}
		fresh := map[string]*ctss.Share{}
		for _, n := range newNodes {
			got, err := ctss.CompressedPubKey(res[n].PublicKey)
			if err != nil || !bytes.Equal(got, f.PublicKey) {
				t.Fatalf("%s holds a share of another key after the reshare", n)
			}
			fresh[n] = res[n].Share
		}
		master, _ := ctss.ParsePubKey(f.PublicKey)
		d := sha256.Sum256([]byte("migration after reshare"))
		pub, sig := sign(t, f, f.Generation+1, newNodes, fresh, []string{"node3", "node4"}, nil, d)
		if !pub.Equal(master) || !ecdsa.Verify(master, d[:], sig.R, sig.S) {
			t.Fatal("new committee's signature does not verify under the fixture's key")
		}
	}
}
