package signer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/audit/audittest"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/api"
	"github.com/cofferhq/coffer/signer/gate"
	ctss "github.com/cofferhq/coffer/signer/tss"
	"github.com/cofferhq/coffer/signer/workflow"
)

// countingKeystore counts unseal calls: the gate must not unseal a share
// before its decision is logged.
type countingKeystore struct {
	hsm.Keystore
	opens atomic.Int64
}

func (c *countingKeystore) Open(ctx context.Context, aad, blob []byte) ([]byte, error) {
	c.opens.Add(1)
	return c.Keystore.Open(ctx, aad, blob)
}

const gatePolicy = `version: 1
parent: ""
loosen_delay: 48h
approval_ttl: 24h
admins:
  quorum: 1
  members:
    - id: admin
      key: "%ADMIN%"
roles: [withdrawal]
groups:
  - id: treasury
officers:
  - id: tom
    key: "%ADMIN%"
    groups: [treasury]
assets:
  - id: BTC
    chain: btc
wallets:
  - id: btc-hot
    chain: btc
    network: regtest
    class: hot
    key_id: k1
    addresses: ["%HOT%"]
  - id: btc-cold
    chain: btc
    network: regtest
    class: cold
    key_id: k2
    addresses: ["%COLD%"]
invariants:
  pinned_destinations:
    - wallet: btc-cold
      to: [btc-hot]
  fee_caps:
    - chain: btc
      max_fee: "500000"
rules:
  - id: sweep
    match:
      source: {wallets: [btc-hot]}
      destination: {classes: [cold]}
      assets: [BTC]
    action: allow
    limits:
      - {scope: rule, window: 24h, max_amount: "2100000000000000", max_count: 100000000}
      - {scope: source, window: 1h, max_amount: "2100000000000000"}
      - {scope: destination, window: 24h, max_amount: "2100000000000000"}
  - id: refill
    match:
      source: {wallets: [btc-cold]}
      destination: {wallets: [btc-hot]}
      assets: [BTC]
    action: allow
    timelock: 1h
`

// gateNode is a node without a network: a real ledger and audit log in a
// temp bbolt file, an in-memory keystore, a signed policy and a key record.
func gateNode(t testing.TB) (*Node, *audittest.FailingKeystore, *countingKeystore, []byte) {
	t.Helper()
	n, failing, ks, hotPub, _ := gateNodeAdmin(t)
	return n, failing, ks, hotPub
}

// gateNodeAdmin is gateNode, with the policy admin's key (a quorum of one).
func gateNodeAdmin(t testing.TB) (*Node, *audittest.FailingKeystore, *countingKeystore, []byte, ed25519.PrivateKey) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ledger.Open(filepath.Join(t.TempDir(), "node.db"), ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ks := &countingKeystore{Keystore: hsmtest.NewMemory()}
	failing := audittest.NewFailingKeystore(ks)
	al, err := audit.New(audit.Config{Cluster: "c", Node: "node1"}, audit.Deps{DB: st.DB(), Identity: failing.Identity(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close() })

	hotKey, _ := btcec.NewPrivateKey()
	coldKey, _ := btcec.NewPrivateKey()
	hotPub := hotKey.PubKey().SerializeCompressed()
	hotAddr, _ := btc.P2WPKHAddress(hotPub, "regtest")
	coldAddr, _ := btc.P2WPKHAddress(coldKey.PubKey().SerializeCompressed(), "regtest")
	adminPub, adminKey, _ := ed25519.GenerateKey(rand.Reader)
	pk, _ := policy.PublicKeyFrom(adminPub)
	doc := strings.NewReplacer("%ADMIN%", pk.String(), "%HOT%", hotAddr, "%COLD%", coldAddr).Replace(gatePolicy)
	p, err := policy.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := policy.SignPolicy(rand.Reader, adminKey, "admin", p.Hash())
	dir := t.TempDir()
	sigJSON, _ := json.Marshal(sig)
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.json"), sigJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Node: "node1", Cluster: "c"}
	cfg.Policy.File, cfg.Policy.Signatures = filepath.Join(dir, "p.yaml"), []string{filepath.Join(dir, "s.json")}
	n := &Node{cfg: cfg, ks: ks, store: st, log: log, now: time.Now, audit: al, sessions: map[string]*entry{}}
	if n.gate, err = gate.New(gate.Config{Store: st, Log: log, Now: time.Now, Propose: n.propose, SessionTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if n.history, err = loadPolicy(cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	for id, pub := range map[string][]byte{"k1": hotPub, "k2": coldKey.PubKey().SerializeCompressed()} {
		blob, _ := ks.Seal(context.Background(), ShareAAD("c", "node1", id, 0), []byte("not a real share"))
		err := st.PutKey(ledger.KeyRecord{ID: id, PublicKey: pub, ChainCode: ctss.ChainCode(pub), Threshold: 1,
			Committee: members(id, 0, []string{"node1", "node2"}), SealedShare: blob})
		if err != nil {
			t.Fatal(err)
		}
	}
	startSoloReplica(t, n)
	return n, failing, ks, hotPub, adminKey
}

// TestGateLogsBeforeItUnseals: when the audit log cannot take the decision
// (the HSM refuses to sign the checkpoint), the gate refuses, unseals
// nothing and leaves no reservation; once the log works, it reserves and
// goes on to unseal.
func TestGateLogsBeforeItUnseals(t *testing.T) {
	n, failing, ks, hotPub := gateNode(t)
	ctx := context.Background()
	utxo := &transferpb.UTXO{Txid: strings.Repeat("ab", 32), Vout: 0, Amount: 500_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(hotPub)...)}
	in := &transferpb.Intent{RequestId: "r1", SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
	tr, err := n.flow.Submit(ctx, in, "svc", "withdrawal", time.Now().UTC())
	if err != nil || tr.State != ledger.StateReady {
		t.Fatalf("submit: %v %v", tr.State, err)
	}
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_TRANSFER, KeyId: "k1", Parties: []string{"node1", "node2"}, RequestId: "r1", Coordinator: "node1",
		LogIndex: n.rep.Applied()}
	sizeBefore := n.audit.Size()
	opensBefore := ks.opens.Load()

	failing.FailSign(true)
	if _, err := n.prepareTransfer(ctx, []byte("session-1-id-32-bytes-long......"), spec); err == nil || !strings.Contains(err.Error(), "log decision") {
		t.Fatalf("gate went on without its audit log: %v", err)
	}
	if ks.opens.Load() != opensBefore {
		t.Fatal("the share was unsealed although the decision was not logged")
	}
	if n.audit.Size() != sizeBefore {
		t.Fatal("the audit log grew although its append failed")
	}
	got, _ := n.store.Transfer("r1")
	if got.Reservation != nil || got.State == ledger.StateSigning {
		t.Fatalf("reservation left behind: %+v", got.Reservation)
	}
	if sp, _ := n.store.Spends(time.Time{}); len(sp) != 0 {
		t.Fatalf("spend still counted: %v", sp)
	}

	failing.FailSign(false)
	e, err := n.prepareTransfer(ctx, []byte("session-2-id-32-bytes-long......"), spec)
	if err != nil {
		t.Fatalf("with a working log the gate should reserve: %v", err)
	}
	if n.audit.Size() <= sizeBefore {
		t.Fatal("the decision was not logged")
	}
	// the share is unsealed when the session runs, not at Prepare: a
	// coordinator's Prepares that never run cost the HSM nothing
	if ks.opens.Load() != opensBefore {
		t.Fatal("Prepare unsealed the share before the session ran")
	}
	e.discard()
	if e.onFailure != nil {
		e.onFailure(ctx, errors.New("test over"))
	}

	// a reshare Prepare in which this node sits only in the old committee
	// unseals nothing either
	rec, err := n.store.Key("k1")
	if err != nil {
		t.Fatal(err)
	}
	rspec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_RESHARE, KeyId: "k1", Parties: []string{"node1", "node2"}, NewParties: []string{"node2", "node3", "node4"},
		OldCommittee: rec.Nodes(), OldThreshold: int32(rec.Threshold), NewThreshold: 1, OldGeneration: rec.Generation, PublicKey: rec.PublicKey, Coordinator: "node2"}
	for i := range 20 {
		re, err := n.prepareReshare(ctx, []byte(fmt.Sprintf("reshare-%02d-id-32-bytes-long.....", i)), rspec)
		if err != nil {
			t.Fatalf("reshare prepare: %v", err)
		}
		re.discard()
	}
	if ks.opens.Load() != opensBefore {
		t.Fatalf("20 reshare Prepares unsealed the share %d times", ks.opens.Load()-opensBefore)
	}
}

// TestTimelockRunsFromWhenThisNodeSawTheRequest: a home node that stamps a
// request two hours back (as a compromised home would, to skip a 1 h
// timelock) convinces only itself: this node's gate runs the timelock from
// when it saw the request and refuses.
func TestTimelockRunsFromWhenThisNodeSawTheRequest(t *testing.T) {
	n, _, _, _ := gateNode(t)
	ctx := context.Background()
	cold, err := n.store.Key("k2")
	if err != nil {
		t.Fatal(err)
	}
	utxo := &transferpb.UTXO{Txid: strings.Repeat("cd", 32), Vout: 0, Amount: 500_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(cold.PublicKey)...)}
	in := &transferpb.Intent{RequestId: "r-back", SourceWallet: "btc-cold", Destination: "btc-hot", Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
	backdated := time.Now().UTC().Add(-2 * time.Hour)
	tr, err := n.flow.Submit(ctx, in, "svc", "withdrawal", backdated)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if !tr.NotBefore.Before(now) {
		t.Fatalf("by the backdated stamp the timelock should be over: not before %s", tr.NotBefore)
	}
	// the (compromised) home declares it ready, as its stamp allows
	if tr, err = n.propose(ctx, ledger.Command{Kind: ledger.CmdSetState, At: now, ID: tr.ID, State: ledger.StateReady}); err != nil {
		t.Fatal(err)
	}
	pv, err := n.activePolicy(now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.gate.Rebuild(pv, tr)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := n.gate.Decide(pv, b, tr, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed() || !strings.Contains(d.Reason, "timelock") {
		t.Fatalf("fail/a backdated request passed this node's timelock: %s %s", d.Effect, d.Reason)
	}
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_TRANSFER, KeyId: "k2", Parties: []string{"node1", "node2"}, RequestId: "r-back",
		Coordinator: "node1", LogIndex: n.rep.Applied()}
	if _, err := n.prepareTransfer(ctx, []byte("session-back-id-32-bytes-long..."), spec); err == nil || !strings.Contains(err.Error(), "timelock") {
		t.Fatalf("fail/the gate prepared a backdated request inside its timelock: %v", err)
	}
}

// TestPeerAbortIsBoundedAndBlamesItsSender: a participant's Abort with a
// 5000-byte reason that blames another node releases the reservation,
// writes a valid session_failed record with a bounded reason, and names
// only the node that aborted.
func TestPeerAbortIsBoundedAndBlamesItsSender(t *testing.T) {
	n, _, _, hotPub := gateNode(t)
	ctx := context.Background()
	utxo := &transferpb.UTXO{Txid: strings.Repeat("ef", 32), Vout: 0, Amount: 500_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(hotPub)...)}
	in := &transferpb.Intent{RequestId: "r-abort", SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
	if _, err := n.flow.Submit(ctx, in, "svc", "withdrawal", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_TRANSFER, KeyId: "k1", Parties: []string{"node1", "node2"}, RequestId: "r-abort",
		Coordinator: "node1", LogIndex: n.rep.Applied()}
	sid := []byte("session-abort-id-32-bytes-long..")
	// the gate's steps up to the unseal, as prepareTransfer takes them
	// (this fixture's shares are not real tss shares)
	pv, err := n.activePolicy(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := n.store.Transfer("r-abort")
	b, err := n.gate.Rebuild(pv, tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.gate.EvaluateAndReserve(ctx, pv, b, "r-abort", sid, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	e := &entry{spec: spec, state: prepared, discard: func() {}, onFailure: n.transferFailed("r-abort", b.Digest, sid, spec.Parties, func() bool { return false })}
	n.mu.Lock()
	n.sessions[string(sid)] = e
	n.mu.Unlock()
	size := n.audit.Size()
	huge := strings.Repeat("x\n", 2500)
	if err := n.Abort(ctx, "node2", &peerpb.AbortRequest{SessionId: sid, Reason: huge, Culprits: []string{"node1"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := n.store.Transfer("r-abort")
	if got.State != ledger.StateFailed || got.Reservation != nil {
		t.Fatalf("fail/the reservation was not released: %s %+v", got.State, got.Reservation)
	}
	if len(got.Reason) > maxRecordText || strings.Contains(got.Reason, "\n") {
		t.Fatalf("fail/the ledger took %d bytes of unsanitized reason", len(got.Reason))
	}
	if n.audit.Size() != size+1 {
		t.Fatalf("fail/no session_failed record: the log went from %d to %d entries", size, n.audit.Size())
	}
	es, err := n.audit.Entries(ctx, size, size+1)
	if err != nil {
		t.Fatal(err)
	}
	leaf := string(es[0].Leaf)
	if !strings.Contains(leaf, `"culprits":["node2"]`) || strings.Contains(leaf, `"culprits":["node1"`) {
		t.Fatalf("fail/the record blames someone else than the aborting node: %.300s", leaf)
	}
}

// TestFailureAfterTheLastRoundKeepsTheReservation: a participant whose
// session fails after it sent its share of the last signing round (the
// coordinator may hold the signature and withhold its own share) frees
// nothing: the request stays signing, possibly signed, its spend and
// input held, and the session_failed record says so.
func TestFailureAfterTheLastRoundKeepsTheReservation(t *testing.T) {
	n, _, _, hotPub := gateNode(t)
	ctx := context.Background()
	utxo := &transferpb.UTXO{Txid: strings.Repeat("cd", 32), Vout: 0, Amount: 500_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(hotPub)...)}
	in := &transferpb.Intent{RequestId: "r-withheld", SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
	if _, err := n.flow.Submit(ctx, in, "svc", "withdrawal", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	sid := []byte("session-withheld-32-bytes-long..")
	pv, err := n.activePolicy(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := n.store.Transfer("r-withheld")
	b, err := n.gate.Rebuild(pv, tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.gate.EvaluateAndReserve(ctx, pv, b, "r-withheld", sid, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	size := n.audit.Size()
	n.transferFailed("r-withheld", b.Digest, sid, []string{"node1", "node2"}, func() bool { return true })(ctx,
		&ctss.SessionError{Reason: "deadline passed while waiting for peers", Culprits: []string{"node2"}, Err: ctss.ErrAborted})
	got, _ := n.store.Transfer("r-withheld")
	if got.State != ledger.StateSigning || got.Reservation == nil || !got.Reservation.PossiblySigned {
		t.Fatalf("the reservation was released: %s %+v", got.State, got.Reservation)
	}
	if h, _ := n.store.Holders([]string{utxo.Txid + ":0"}, ""); h[utxo.Txid+":0"] != "r-withheld" {
		t.Fatalf("the input was freed: %v", h)
	}
	if sp, _ := n.store.Spends(time.Time{}); len(sp) != 1 {
		t.Fatalf("the spend stopped counting: %v", sp)
	}
	if v := n.flow.View(got); !v.PossiblySigned {
		t.Fatal("the client API does not show it as possibly signed")
	}
	es, err := n.audit.Entries(ctx, size, size+1)
	if err != nil || len(es) != 1 || !strings.Contains(string(es[0].Leaf), `"possibly_signed":true`) {
		t.Fatalf("the session_failed record does not say possibly signed: %v %v", err, es)
	}
}

// TestSubmitSaysNothingOfAnotherClientsRequest: a client naming another
// client's request ID gets the same refusal whether or not its intent
// matches, and never the other request; its owner's resubmission still
// returns it.
func TestSubmitSaysNothingOfAnotherClientsRequest(t *testing.T) {
	n, _, _, hotPub := gateNode(t)
	ctx := context.Background()
	utxo := &transferpb.UTXO{Txid: strings.Repeat("12", 32), Vout: 0, Amount: 500_000,
		PkScript: append([]byte{0x00, 0x14}, btcutil.Hash160(hotPub)...)}
	in := &transferpb.Intent{RequestId: "r-mine", SourceWallet: "btc-hot", Destination: "btc-cold", Asset: "BTC", Amount: "100000",
		Btc: &transferpb.BTC{Utxos: []*transferpb.UTXO{utxo}, FeeRate: 2000, MaxFee: 100000}}
	if _, err := n.flow.Submit(ctx, in, "svc-a", "withdrawal", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	other := proto.Clone(in).(*transferpb.Intent)
	other.Amount = "200000"
	_, errSame := n.flow.Submit(ctx, in, "svc-b", "withdrawal", time.Now().UTC())
	_, errOther := n.flow.Submit(ctx, other, "svc-b", "withdrawal", time.Now().UTC())
	if !errors.Is(errSame, workflow.ErrIDTaken) || !errors.Is(errOther, workflow.ErrIDTaken) || errSame.Error() != errOther.Error() {
		t.Fatalf("fail/another client learns whether the intent matches: %v / %v", errSame, errOther)
	}
	if classifyErr(errSame) != api.KindTaken {
		t.Fatalf("the refusal is classified as %v", classifyErr(errSame))
	}
	if got, err := n.flow.Submit(ctx, in, "svc-a", "withdrawal", time.Now().UTC()); err != nil || got.ID != "r-mine" {
		t.Fatalf("the owner's resubmission: %v %v", got.ID, err)
	}
	if _, err := n.flow.Submit(ctx, other, "svc-a", "withdrawal", time.Now().UTC()); !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("the owner reusing the ID with another intent: %v", err)
	}
}
