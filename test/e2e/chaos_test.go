package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// chaosRequest is one request of the chaos run and what it spends.
type chaosRequest struct {
	id     string
	intent *transferpb.Intent
	utxo   *transferpb.UTXO // btc
	nonce  uint64           // eth
	amount *big.Int
}

// TestChaos: 200 concurrent requests against tight limits — 130 BTC
// sweeps of 0.5 BTC (80 of them in pairs sharing a UTXO) under a 20 BTC
// window, 70 ETH sweeps of 10 ETH (in pairs racing for 35 nonces) under a
// 200 ETH window — while a random node is killed (SIGKILL by PID) and
// restarted every few seconds. Then every request must end signed, denied
// or expired on every node alike, no limit may be exceeded, and no UTXO
// or nonce may be signed for two requests. It prints those counts.
func TestChaos(t *testing.T) {
	c := startCluster(t, 10*time.Second)
	ctx := context.Background()
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: time.Hour, SAFUTimelock: time.Hour}, os.Stderr)
	if err != nil {
		t.Fatalf("treasury: %v", err)
	}
	cl := clients{t: t, tr: tr}
	w := tr.Wallets
	nodes := []string{"node1", "node2", "node3"}
	r := rand.New(rand.NewPCG(20261204, 1))
	t.Logf("seed 20261204/1")

	var reqs []*chaosRequest
	halfBTC := big.NewInt(50_000_000)
	for i := range 40 { // 40 UTXOs, each wanted by two requests
		u := devcluster.FakeUTXO(w["btc-hot"], 60_000_000)
		for j := range 2 {
			id := fmt.Sprintf("btc-shared-%d-%d", i, j)
			reqs = append(reqs, &chaosRequest{id: id, intent: devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", halfBTC.Int64(), u), utxo: u, amount: halfBTC})
		}
	}
	for i := range 50 {
		u := devcluster.FakeUTXO(w["btc-hot"], 60_000_000)
		id := fmt.Sprintf("btc-own-%d", i)
		reqs = append(reqs, &chaosRequest{id: id, intent: devcluster.BTCIntent(id, w["btc-hot"], "btc-cold", halfBTC.Int64(), u), utxo: u, amount: halfBTC})
	}
	tenETH, _ := new(big.Int).SetString("10000000000000000000", 10)
	for n := range 35 { // 35 nonces, each wanted by two requests
		for j := range 2 {
			id := fmt.Sprintf("eth-nonce-%d-%d", n, j)
			reqs = append(reqs, &chaosRequest{id: id, intent: devcluster.ETHIntent(id, w["eth-hot"], "eth-cold", tenETH.String(), uint64(n)),
				nonce: uint64(n), amount: tenETH})
		}
	}
	r.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })

	// chaos: a random node killed and restarted every few seconds, until
	// the submissions are in and then some (bounded either way)
	chaosDone := make(chan struct{})
	stop := make(chan struct{})
	kills := 0
	go func() {
		defer close(chaosDone)
		deadline := time.Now().Add(2 * time.Minute)
		for kills < 30 && time.Now().Before(deadline) {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(2000+r.IntN(3000)) * time.Millisecond):
			}
			victim := nodes[r.IntN(len(nodes))]
			c.KillNode(victim)
			kills++
			time.Sleep(time.Duration(1000+r.IntN(2000)) * time.Millisecond)
			for try := 0; ; try++ {
				err := c.StartNode(ctx, victim)
				if err == nil {
					break
				}
				if try == 5 {
					t.Errorf("restart %s: %v", victim, err)
					return
				}
				time.Sleep(time.Second)
			}
		}
	}()

	// 200 submissions at once, each to a random node, retried at another
	// while nodes die (a resubmission is idempotent)
	submitters := map[string]transferpb.TransfersClient{}
	for _, n := range nodes {
		submitters[n] = cl.as(n, tr.Withdrawal)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	resubmits := 0
	for i, q := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for try := 0; try < 60; try++ {
				node := nodes[(i+try)%len(nodes)]
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := submitters[node].Submit(sctx, &transferpb.SubmitRequest{Intent: q.intent})
				cancel()
				if err == nil {
					return
				}
				mu.Lock()
				resubmits++
				mu.Unlock()
				time.Sleep(500 * time.Millisecond)
			}
			t.Errorf("%s: never accepted", q.id)
		}()
	}
	wg.Wait()
	time.Sleep(60 * time.Second) // chaos goes on while the requests are signed
	close(stop)
	<-chaosDone
	for _, n := range nodes {
		if c.PID(n) == 0 {
			if err := c.StartNode(ctx, n); err != nil {
				t.Fatalf("restart %s: %v", n, err)
			}
		}
	}
	waitCaughtUp(t, c)

	// every request ends: signed, denied or expired (a failed session is
	// retried, a session cut by a kill is resumed)
	final := map[string]*transferpb.Transfer{}
	deadline := time.Now().Add(6 * time.Minute)
	for _, q := range reqs {
		for {
			got, err := submitters["node1"].Get(ctx, &transferpb.GetRequest{RequestId: q.id, WaitMs: 5000})
			if err == nil && (got.State == "signed" || got.State == "denied" || got.State == "expired") {
				final[q.id] = got
				break
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	counts := map[string]int{}
	var lost []string
	for _, q := range reqs {
		if f := final[q.id]; f != nil {
			counts[f.State]++
		} else {
			lost = append(lost, q.id)
		}
	}

	// what was signed: amounts per window, inputs and nonces
	btcPaid, ethPaid := new(big.Int), new(big.Int)
	btcSigned, ethSigned := 0, 0
	outpoints := map[string][]string{}
	nonces := map[uint64][]string{}
	for _, q := range reqs {
		f := final[q.id]
		if f == nil || f.State != "signed" {
			continue
		}
		switch q.intent.Asset {
		case "BTC":
			verifyBTC(t, f, []*transferpb.UTXO{q.utxo})
			var tx wire.MsgTx
			if err := tx.Deserialize(bytes.NewReader(f.SignedTx)); err != nil {
				t.Fatal(err)
			}
			for _, in := range tx.TxIn {
				op := in.PreviousOutPoint.String()
				outpoints[op] = append(outpoints[op], q.id)
			}
			btcPaid.Add(btcPaid, q.amount)
			btcSigned++
		case "ETH":
			if err := eth.Verify(f.SignedTx, w["eth-hot"].Address); err != nil {
				t.Fatalf("%s: %v", q.id, err)
			}
			var tx types.Transaction
			if err := tx.UnmarshalBinary(f.SignedTx); err != nil {
				t.Fatal(err)
			}
			if tx.Nonce() != q.nonce || tx.Value().Cmp(q.amount) != 0 {
				t.Fatalf("%s: signed nonce %d value %s, asked %d %s", q.id, tx.Nonce(), tx.Value(), q.nonce, q.amount)
			}
			nonces[tx.Nonce()] = append(nonces[tx.Nonce()], q.id)
			ethPaid.Add(ethPaid, q.amount)
			ethSigned++
		}
	}
	twice := 0
	for op, ids := range outpoints {
		if len(ids) > 1 {
			t.Errorf("UTXO %s signed for %v", op, ids)
			twice++
		}
	}
	for n, ids := range nonces {
		if len(ids) > 1 {
			t.Errorf("nonce %d signed for %v", n, ids)
			twice++
		}
	}
	over := 0
	btcLimit, _ := new(big.Int).SetString("2000000000", 10)
	ethLimit, _ := new(big.Int).SetString("200000000000000000000", 10)
	if btcPaid.Cmp(btcLimit) > 0 || btcSigned > 50 {
		t.Errorf("BTC sweeps signed: %d for %s sat, limit 50 and %s", btcSigned, btcPaid, btcLimit)
		over++
	}
	if ethPaid.Cmp(ethLimit) > 0 || ethSigned > 50 {
		t.Errorf("ETH sweeps signed: %d for %s wei, limit 50 and %s", ethSigned, ethPaid, ethLimit)
		over++
	}

	// every node serves the same outcome for every request
	disagree := 0
	for _, n := range nodes[1:] {
		for _, q := range reqs {
			f := final[q.id]
			if f == nil {
				continue
			}
			got, err := submitters[n].Get(ctx, &transferpb.GetRequest{RequestId: q.id})
			if err != nil || got.State != f.State || !bytes.Equal(got.SignedTx, f.SignedTx) {
				disagree++
			}
		}
	}
	// no signature without its record: every request signed in the ledger
	// has a signature_produced record, for its transaction, in at least
	// one node's audit log (a participant whose coordinator was killed
	// mid-session still writes its own)
	produced := map[audit.Digest][]string{}
	for _, n := range nodes {
		for _, rec := range auditRecords(t, tr, n) {
			if rec.Kind == audit.KindSignatureProduced {
				produced[rec.Signature.RequestDigest] = append(produced[rec.Signature.RequestDigest], rec.Signature.TxHash)
			}
		}
	}
	unrecorded := 0
	for _, q := range reqs {
		f := final[q.id]
		if f == nil || f.State != "signed" {
			continue
		}
		if hashes := produced[audit.Digest(f.Digest)]; !slices.Contains(hashes, f.TxHash) {
			t.Errorf("%s: signed (tx %s) but no audit log records the signature (records for it: %v)", q.id, f.TxHash, hashes)
			unrecorded++
		}
	}
	slices.Sort(lost)
	t.Logf("chaos: %d requests, %d kills, %d resubmissions; signed %d (btc %d for %s sat, eth %d for %s wei), denied %d, expired %d",
		len(reqs), kills, resubmits, counts["signed"], btcSigned, btcPaid, ethSigned, ethPaid, counts["denied"], counts["expired"])
	t.Logf("chaos: over a limit %d, UTXO or nonce signed twice %d, lost %d, nodes disagreeing %d, signed without an audit record %d", over, twice, len(lost), disagree, unrecorded)
	fmt.Printf("chaos: requests=%d kills=%d signed=%d denied=%d expired=%d over_limit=%d signed_twice=%d lost=%d disagree=%d unrecorded=%d\n",
		len(reqs), kills, counts["signed"], counts["denied"], counts["expired"], over, twice, len(lost), disagree, unrecorded)
	if len(lost) > 0 {
		for _, id := range lost {
			got, err := submitters["node1"].Get(ctx, &transferpb.GetRequest{RequestId: id})
			t.Logf("lost %s: %v %v", id, got.GetState(), err)
		}
		t.Errorf("%d requests did not end: %v", len(lost), lost)
	}
	if disagree > 0 {
		t.Errorf("%d outcomes differ between nodes", disagree)
	}
	// the limits are tight enough to bind: each window is full
	if btcPaid.Cmp(btcLimit) != 0 || ethPaid.Cmp(ethLimit) != 0 {
		t.Logf("windows not full: btc %s of %s, eth %s of %s", btcPaid, btcLimit, ethPaid, ethLimit)
	}
}
