package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/hsm/hsmtest"
	"github.com/cofferhq/coffer/ledger"
)

// A node logs its decision before it signs, then an auditor verifies the
// exported bundle offline with the node's verifier key.
func Example() {
	dir, _ := os.MkdirTemp("", "audit-example-")
	defer os.RemoveAll(dir)
	logger := slog.New(slog.DiscardHandler)
	store, err := ledger.Open(filepath.Join(dir, "node1.db"), ledger.Options{}, logger)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ks := hsmtest.NewMemory() // hsm/pkcs11 in a node
	log, err := audit.New(audit.Config{Cluster: "prod", Node: "node1"},
		audit.Deps{DB: store.DB(), Identity: ks.Identity(), Logger: logger})
	if err != nil {
		panic(err)
	}
	defer log.Close()

	ctx := context.Background()
	request, session := audit.Digest(sha256.Sum256([]byte("request"))), audit.Digest(sha256.Sum256([]byte("session")))
	idx, err := log.Append(ctx, audit.Record{Kind: audit.KindDecision, Time: time.Unix(1700000000, 0), Decision: &audit.Decision{
		RequestDigest: request, SessionID: session, PolicyHash: audit.Digest(sha256.Sum256([]byte("policy"))),
		PolicyVersion: 3, Effect: audit.EffectAllow, Rule: "hot-to-cold", Reason: "sweep within limits",
		Trace: []string{"rule hot-to-cold: matched"}}})
	if err != nil {
		panic(err) // fail closed: do not sign
	}
	fmt.Println("decision logged at index", idx)

	var bundle bytes.Buffer
	if err := log.Export(ctx, &bundle); err != nil {
		panic(err)
	}
	trust, _ := audit.NewTrust(0, 0, log.VerifierKey())
	b, _ := audit.ReadBundle("node1.bundle", &bundle)
	rep, err := audit.Verify(ctx, []*audit.Bundle{b}, trust, nil)
	fmt.Println("verified:", err == nil, "entries:", rep.Nodes[0].Entries, "latest size:", rep.Nodes[0].Latest.Size)
	// Output:
	// decision logged at index 0
	// verified: true entries: 1 latest size: 1
}
