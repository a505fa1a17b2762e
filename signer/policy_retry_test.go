package signer

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// TestPolicyAcceptedAgainOnRetry: the replicated state machine applies an
// entry again after the store failed to commit it (a full disk). The
// failed attempt already took the policy version into the node's history;
// the retry must take it again as it is, with no refusal, or this node's
// ledger would record a refusal where every other node accepted.
func TestPolicyAcceptedAgainOnRetry(t *testing.T) {
	n, _, _, _, admin := gateNodeAdmin(t)
	genesis, err := os.ReadFile(n.cfg.Policy.File)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := policy.Load(genesis)
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(genesis), "version: 1\nparent: \"\"", "version: 2\nparent: \""+p1.Hash().String()+"\"", 1)
	p2, err := policy.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := policy.SignPolicy(rand.Reader, ed25519.PrivateKey(admin), "admin", p2.Hash())
	sigJSON, _ := json.Marshal(sig)
	v := ledger.PolicyVersion{Document: []byte(doc), Signatures: [][]byte{sigJSON}, At: time.Now().UTC()}
	acc := policyAcceptor{n}
	if err := acc.AcceptPolicy(v); err != nil {
		t.Fatalf("first attempt: %v", err)
	}
	versions := len(n.history.Versions())
	if err := acc.AcceptPolicy(v); err != nil {
		t.Fatalf("the retried apply of the same version is refused: %v", err)
	}
	if got := len(n.history.Versions()); got != versions {
		t.Fatalf("the retry added a version: %d, want %d", got, versions)
	}
}
