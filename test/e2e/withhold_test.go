package e2e

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	btcecdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

var tagged struct {
	sync.Mutex
	bins map[string]string
}

// taggedCofferd builds cofferd with -tags tag once per test binary: the
// test-only builds "hostile" (COFFER_HOSTILE=withhold-last-round plays a
// compromised node that keeps its last-round share and the signature to
// itself) and "devclock" (COFFER_DEV_CLOCK_OFFSET lets hours pass).
func taggedCofferd(t *testing.T, tag string) string {
	t.Helper()
	tagged.Lock()
	defer tagged.Unlock()
	if bin, ok := tagged.bins[tag]; ok {
		return bin
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(binDir, tag)
	cmd := exec.Command("go", "build", "-tags", tag, "-o", dir+"/", "./cmd/cofferd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build cofferd -tags %s: %v: %s", tag, err, out)
	}
	if tagged.bins == nil {
		tagged.bins = map[string]string{}
	}
	tagged.bins[tag] = filepath.Join(dir, "cofferd")
	return tagged.bins[tag]
}

// TestWithheldSignature: a compromised home node coordinates a sweep,
// gathers the honest party's last-round share, withholds its own and
// reports the session failed. It holds a valid signature; the honest
// nodes keep the spend and the reservation, show the request as possibly
// signed, and deny a second sweep that would pass the window only if the
// first were freed.
func TestWithheldSignature(t *testing.T) {
	bin := taggedCofferd(t, "hostile")
	c := startCluster(t, 20*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: time.Minute, SAFUTimelock: time.Minute}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	out := t.TempDir()
	t.Setenv("COFFER_HOSTILE", "withhold-last-round") // release builds ignore it
	t.Setenv("COFFER_HOSTILE_OUT", out)
	release := c.Bin
	c.StopNode("node3")
	c.Bin = bin
	if err := c.StartNode(ctx, "node3"); err != nil {
		t.Fatal(err)
	}
	c.Bin = release
	cl := clients{t: t, tr: tr}
	cl.withdrawal = cl.as("node1", tr.Withdrawal)
	w := tr.Wallets

	// 15 BTC of the 20 BTC a day the sweep rule allows, homed on node3
	in := devcluster.BTCIntent("withheld-1", w["btc-hot"], "btc-cold", 1_500_000_000, devcluster.FakeUTXO(w["btc-hot"], 1_600_000_000))
	if _, err := cl.as("node3", tr.Withdrawal).Submit(ctx, &transferpb.SubmitRequest{Intent: in}); err != nil {
		t.Fatal(err)
	}
	var got *transferpb.Transfer
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err = cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: in.RequestId})
		if err == nil && got.PossiblySigned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request never showed as possibly signed: %v %v", got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// the attack is real: node3 holds a signature that verifies
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) == 0 {
		t.Fatalf("node3 withheld no signature:\n%s", c.LogTail("node3", 40))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var sigs []struct{ R, S string }
	if err := json.Unmarshal(b, &sigs); err != nil || len(sigs) != 1 || got.Review == nil || len(got.Review.Sighashes) != 1 {
		t.Fatalf("withheld %s (%v); review %v", b, err, got.Review)
	}
	pub, err := btcec.ParsePubKey(w["btc-hot"].PubKey)
	if err != nil {
		t.Fatal(err)
	}
	var r, s btcec.ModNScalar
	rb, _ := new(big.Int).SetString(sigs[0].R, 16)
	sb, _ := new(big.Int).SetString(sigs[0].S, 16)
	r.SetByteSlice(rb.Bytes())
	s.SetByteSlice(sb.Bytes())
	if !btcecdsa.NewSignature(&r, &s).Verify(got.Review.Sighashes[0], pub) {
		t.Fatal("the withheld signature does not verify: the test proves nothing")
	}

	// every honest node keeps the spend and the inputs: possibly signed
	// (each node shows it once it has applied the release from the log)
	for _, n := range []string{"node1", "node2"} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			v, err := cl.as(n, tr.Withdrawal).Get(ctx, &transferpb.GetRequest{RequestId: in.RequestId})
			if err != nil {
				t.Fatal(err)
			}
			if v.State == "signing" && v.PossiblySigned {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s shows %s, possibly signed %v", n, v.State, v.PossiblySigned)
			}
		}
	}
	// its input cannot be signed into a second transaction: the log
	// refuses every reservation of it
	again := devcluster.BTCIntent("withheld-inputs-again", w["btc-hot"], "btc-cold", 100_000, in.Btc.Utxos[0])
	if _, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: again}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(c.LogTail("node1", 400), "is reserved by transfer withheld-1"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reservation of the withheld input was refused:\n%s", c.LogTail("node1", 40))
		}
	}
	if v, err := cl.withdrawal.Get(ctx, &transferpb.GetRequest{RequestId: again.RequestId}); err != nil || v.State == "signed" || v.State == "signing" {
		t.Fatalf("the withheld request's input went into a second transaction: %v %v", v, err)
	}

	// a second sweep that fits only if the first were freed is denied
	second := devcluster.BTCIntent("after-withheld", w["btc-hot"], "btc-cold", 1_000_000_000, devcluster.FakeUTXO(w["btc-hot"], 1_100_000_000))
	if _, err := cl.withdrawal.Submit(ctx, &transferpb.SubmitRequest{Intent: second}); err != nil {
		t.Fatal(err)
	}
	v := cl.wait(second.RequestId, "denied", "signed")
	if v.State != "denied" || !strings.Contains(v.Reason, "limit") {
		t.Fatalf("second sweep: %s (%s)", v.State, v.Reason)
	}
	t.Logf("second sweep denied: %s", v.Reason)
}
