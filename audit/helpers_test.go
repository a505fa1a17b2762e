package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
)

const testCluster = "t"

// testLogger logs warnings and errors to the test output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(warnWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type warnWriter struct{ t testing.TB }

func (w warnWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimSpace(p))
	return len(p), nil
}

// memKS is an in-memory keystore whose identity key derives from seed.
func memKS(seed byte) *hsmtest.Memory {
	id := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	m, err := hsmtest.NewMemoryWithKeys(bytes.Repeat([]byte{seed}, 32), id)
	if err != nil {
		panic(err)
	}
	return m
}

// testNode is a node's bbolt file and audit log.
type testNode struct {
	name  string
	path  string
	ks    hsm.Keystore
	peers []string
	store *ledger.Store
	log   *Log
}

func newTestNode(t testing.TB, name string, ks hsm.Keystore, peers ...string) *testNode {
	t.Helper()
	n := &testNode{name: name, path: filepath.Join(t.TempDir(), name+".db"), ks: ks, peers: peers}
	n.open(t)
	t.Cleanup(n.close)
	return n
}

func (n *testNode) open(t testing.TB) {
	t.Helper()
	if err := n.tryOpen(t); err != nil {
		t.Fatalf("open node %s: %v", n.name, err)
	}
}

func (n *testNode) tryOpen(t testing.TB) error {
	store, err := ledger.Open(n.path, ledger.Options{}, testLogger(t))
	if err != nil {
		return err
	}
	l, err := New(Config{Cluster: testCluster, Node: n.name, Peers: n.peers},
		Deps{DB: store.DB(), Identity: n.ks.Identity(), Logger: testLogger(t)})
	if err != nil {
		store.Close()
		return err
	}
	n.store, n.log = store, l
	return nil
}

func (n *testNode) close() {
	if n.log != nil {
		n.log.Close()
		n.log = nil
	}
	if n.store != nil {
		n.store.Close()
		n.store = nil
	}
}

func (n *testNode) origin() string { return "coffer/" + testCluster + "/" + n.name }

func (n *testNode) vkey(t testing.TB) string {
	t.Helper()
	k, err := VerifierKey(n.origin(), n.ks.Identity().Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// append appends records one by one (one batch, so one checkpoint, each).
func (n *testNode) append(t testing.TB, recs ...Record) {
	t.Helper()
	for _, r := range recs {
		if _, err := n.log.Append(context.Background(), r); err != nil {
			t.Fatalf("append to %s: %v", n.name, err)
		}
	}
}

// bundle exports the node's log, from the open log or from the file.
func (n *testNode) bundle(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if n.log != nil {
		if err := n.log.Export(context.Background(), &buf); err != nil {
			t.Fatalf("export %s: %v", n.name, err)
		}
		return buf.Bytes()
	}
	db, err := bolt.Open(n.path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Export(context.Background(), db, &buf); err != nil {
		t.Fatalf("export %s: %v", n.name, err)
	}
	return buf.Bytes()
}

// edit closes the node and changes its bbolt file directly, as an
// attacker with the file (and not the HSM) could.
func (n *testNode) edit(t testing.TB, fn func(b buckets) error) {
	t.Helper()
	n.close()
	db, err := bolt.Open(n.path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := auditBuckets(tx)
		if err != nil {
			return err
		}
		return fn(b)
	}); err != nil {
		t.Fatalf("edit %s: %v", n.name, err)
	}
}

func readBundles(t testing.TB, bundles ...[]byte) []*Bundle {
	t.Helper()
	var out []*Bundle
	for i, b := range bundles {
		rb, err := ReadBundle(fmt.Sprintf("b%d", i+1), bytes.NewReader(b))
		if err != nil {
			t.Fatalf("ReadBundle %d: %v", i+1, err)
		}
		out = append(out, rb)
	}
	return out
}

func verifyBundles(t testing.TB, trust *Trust, since [][]byte, bundles ...[]byte) (*Report, error) {
	t.Helper()
	rep, err := Verify(context.Background(), readBundles(t, bundles...), trust, since)
	if rep == nil {
		t.Fatal("Verify returned a nil report")
	}
	var text strings.Builder
	rep.WriteText(&text)
	t.Logf("report:\n%s", text.String())
	return rep, err
}

func trustOf(t testing.TB, threshold, minCosig int, nodes ...*testNode) *Trust {
	t.Helper()
	var keys []string
	for _, n := range nodes {
		keys = append(keys, n.vkey(t))
	}
	tr, err := NewTrust(threshold, minCosig, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Record fixtures. Request i has digest D("request-i") and session
// D("session-i").

func digestOf(s string) Digest { return sha256.Sum256([]byte(s)) }

var testTime = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func policyRec() Record {
	return Record{Kind: KindPolicyActivated, Time: testTime, Policy: &PolicyActivated{Version: 2, Hash: digestOf("policy-2"),
		Parent: digestOf("policy-1"), Approvers: []string{"admin-a", "admin-b"}, EffectiveAt: testTime}}
}

func keyRec(t int, parties ...string) Record {
	return Record{Kind: KindKeyGenerated, Time: testTime, Key: &KeyEvent{KeyID: "hot-1", Generation: 1, Threshold: t,
		Parties: parties, PublicKey: bytes.Repeat([]byte{2}, 33)}}
}

func transferRec(i int) Record {
	return Record{Kind: KindTransferSubmitted, Time: testTime, Transfer: &TransferSubmitted{RequestID: fmt.Sprintf("req-%d", i),
		RequestDigest: digestOf(fmt.Sprint("request-", i)), Wallet: "hot-btc", Destination: "cold-btc", Asset: "BTC",
		Amount: "150000000", Chain: "btc", PolicyHash: digestOf("policy-2"), Expiry: testTime.Add(time.Hour), Initiator: "withdrawal-service"}}
}

func approvalRec(i int) Record {
	return Record{Kind: KindApprovalRecorded, Time: testTime, Approval: &ApprovalRecorded{RequestDigest: digestOf(fmt.Sprint("request-", i)),
		Officer: "alice", Verdict: VerdictApprove, Signature: bytes.Repeat([]byte{7}, 64)}}
}

func decisionRec(i int, effect string) Record {
	return Record{Kind: KindDecision, Time: testTime, Decision: &Decision{RequestDigest: digestOf(fmt.Sprint("request-", i)),
		SessionID: digestOf(fmt.Sprint("session-", i)), PolicyHash: digestOf("policy-2"), PolicyVersion: 2, Effect: effect,
		Rule: "hot-to-cold", Reason: "sweep within limits", Approvers: []string{"alice"},
		Trace: []string{"invariants: ok", "rule hot-to-cold: matched", "limits: 1.5 BTC of 10 BTC per 24h <ok>"}}}
}

func sessionRec(i int, parties ...string) Record {
	return Record{Kind: KindSessionStarted, Time: testTime, Session: &SessionStarted{SessionID: digestOf(fmt.Sprint("session-", i)),
		RequestDigest: digestOf(fmt.Sprint("request-", i)), KeyID: "hot-1", Parties: parties, Attempt: 1, Coordinator: parties[0]}}
}

func signatureRec(i, t int, parties ...string) Record {
	return Record{Kind: KindSignatureProduced, Time: testTime, Signature: &SignatureProduced{SessionID: digestOf(fmt.Sprint("session-", i)),
		RequestDigest: digestOf(fmt.Sprint("request-", i)), KeyID: "hot-1", Threshold: t, Parties: parties, Chain: "btc",
		TxHash: fmt.Sprintf("%064x", i)}}
}

func failureRec(i int) Record {
	return Record{Kind: KindSessionFailed, Time: testTime, Failure: &SessionFailed{SessionID: digestOf(fmt.Sprint("session-", i)),
		RequestDigest: digestOf(fmt.Sprint("request-", i)), Reason: "round 3 timed out", Culprits: []string{"node3"}}}
}

// oneOfEach is one record of every kind.
func oneOfEach(i int) []Record {
	k := keyRec(1, "node1", "node2", "node3")
	r := keyRec(1, "node1", "node2", "node3")
	r.Kind, r.Key.Generation, r.Key.OldParties = KindKeyReshared, 2, []string{"node1", "node2"}
	return []Record{policyRec(), k, r, transferRec(i), approvalRec(i), decisionRec(i, EffectAllow),
		sessionRec(i, "node1", "node2"), signatureRec(i, 1, "node1", "node2"), failureRec(i)}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func stringsContains(s, sub string) bool { return strings.Contains(s, sub) }

// notEd25519 is a crypto.Signer with another key type.
type notEd25519 struct{}

func (notEd25519) Public() crypto.PublicKey { return "rsa?" }
func (notEd25519) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("no")
}
