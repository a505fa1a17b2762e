package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"math/big"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// TestCluster is the signer-cluster acceptance run on three real cofferd
// processes with three SoftHSM tokens. Subtests share the cluster and run
// in order.
func TestCluster(t *testing.T) {
	c := startCluster(t, 45*time.Second)
	all := []string{"node1", "node2", "node3"}

	key, err := keygen(c, "node1", "hot-1", 1, all, nil)
	if err != nil {
		t.Fatalf("keygen 2-of-3: %v", err)
	}
	master := mustPub(t, key.PublicKey)
	for _, n := range all {
		resp, err := dial(t, c, n).Operator.ListKeys(context.Background(), &operatorpb.ListKeysRequest{})
		if err != nil || len(resp.Keys) != 1 || !bytes.Equal(resp.Keys[0].PublicKey, key.PublicKey) {
			t.Fatalf("%s does not hold hot-1 with the same public key: %v %v", n, resp, err)
		}
	}

	t.Run("ok/every pair signs and verifies", func(t *testing.T) {
		for _, pair := range [][]string{{"node1", "node2"}, {"node1", "node3"}, {"node2", "node3"}, {"node3", "node1"}} {
			r, ok, err := selfTestSign(c, "hot-1", pair, nil)
			if err != nil || !ok {
				t.Fatalf("%v: ok=%v err=%v", pair, ok, err)
			}
			if !bytes.Equal(r.PublicKey, key.PublicKey) {
				t.Fatalf("%v signed with another key", pair)
			}
		}
	})
	t.Run("ok/derived child key signs", func(t *testing.T) {
		path := []uint32{0, 42}
		_, want, err := ctss.Derive(master, key.ChainCode, path)
		if err != nil {
			t.Fatal(err)
		}
		r, ok, err := selfTestSign(c, "hot-1", []string{"node2", "node3"}, path)
		if err != nil || !ok {
			t.Fatalf("child sign: ok=%v err=%v", ok, err)
		}
		if got := mustPub(t, r.PublicKey); !got.Equal(want) || got.Equal(master) {
			t.Fatal("child signature is not under the derived key")
		}
	})
	t.Run("ok/operator CLI", func(t *testing.T) {
		out := runCoffer(t, "--cluster", c.Layout.Dir, "keys", "--node", "node2")
		if !strings.Contains(out, "key hot-1  generation 0  2-of-3") || !strings.Contains(out, hex.EncodeToString(key.PublicKey)) {
			t.Fatalf("coffer keys:\n%s", out)
		}
		// every started node runs tss-lib v3 with constant-time arithmetic on
		out = runCoffer(t, "--cluster", c.Layout.Dir, "status", "--json")
		for _, n := range all {
			want := `{"node":"` + n + `",`
			line := ""
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, want) {
					line = l
				}
			}
			if !strings.Contains(line, `"tss_constant_time":true`) || !strings.Contains(line, `"tss_library":"github.com/bnb-chain/tss-lib/v3 v3.0.0"`) {
				t.Fatalf("coffer status of %s does not show tss-lib v3.0.0 with constant-time on:\n%s", n, out)
			}
		}
		out = runCoffer(t, "--cluster", c.Layout.Dir, "selftest", "--key", "hot-1", "--parties", "node3,node1", "--path", "m/0/1")
		if !strings.Contains(out, "verified   true") {
			t.Fatalf("coffer selftest:\n%s", out)
		}
	})
	t.Run("fail/one node alone cannot sign", func(t *testing.T) {
		_, _, err := selfTestSign(c, "hot-1", []string{"node1"}, nil)
		if err == nil || !strings.Contains(err.Error(), "threshold needs 2") {
			t.Fatalf("single-node signature: %v", err)
		}
	})
	t.Run("fail/self-test digest cannot be chosen by the caller", func(t *testing.T) {
		cl := dial(t, c, "node1")
		_, err := cl.Operator.SelfTestSign(context.Background(), &operatorpb.SelfTestSignRequest{KeyId: "hot-1", Parties: []string{"node1", "node2"}, Nonce: []byte("short")})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("short nonce: %v", err)
		}
		nonce := sha256.Sum256([]byte("e2e nonce"))
		r, err := cl.Operator.SelfTestSign(context.Background(), &operatorpb.SelfTestSignRequest{KeyId: "hot-1", Parties: []string{"node1", "node2"}, Nonce: nonce[:]})
		if err != nil {
			t.Fatal(err)
		}
		want := signer.SelfTestDigest("hot-1", nonce[:])
		if !bytes.Equal(r.Digest, want[:]) || !ecdsa.Verify(master, want[:], new(big.Int).SetBytes(r.SignatureR), new(big.Int).SetBytes(r.SignatureS)) {
			t.Fatal("the nodes signed something other than the domain-tagged self-test digest")
		}
	})
	t.Run("attacks", func(t *testing.T) { testRoguePeers(t, c) })
	t.Run("tls", func(t *testing.T) { testTLS(t, c) })
	t.Run("fail/killing a node mid-session", func(t *testing.T) { testKillMidSession(t, c) })

	t.Run("ok/reshare 2-of-3 to 3-of-3 keeps the key", func(t *testing.T) {
		after, err := reshare(c, "node1", "hot-1", []string{"node1", "node2"}, all, 2)
		if err != nil {
			t.Fatalf("reshare: %v", err)
		}
		if !bytes.Equal(after.PublicKey, key.PublicKey) || after.Generation != 1 || after.Threshold != 2 {
			t.Fatalf("after reshare: %+v", after)
		}
		r, ok, err := selfTestSign(c, "hot-1", all, nil)
		if err != nil || !ok || !mustPub(t, r.PublicKey).Equal(master) {
			t.Fatalf("new shares: ok=%v err=%v", ok, err)
		}
		// the old 2-of-3 share set no longer takes part
		if _, _, err := selfTestSign(c, "hot-1", []string{"node1", "node2"}, nil); err == nil {
			t.Fatal("two nodes still sign after moving to 3-of-3")
		}
	})

	t.Run("secrets", func(t *testing.T) { testNoPlaintextSecrets(t, c) })
	t.Run("start-up faults", func(t *testing.T) { testStartupFaults(t, c) })
	t.Run("fail/sealed share copied to another node", func(t *testing.T) { testCopiedShare(t, c) })
}
