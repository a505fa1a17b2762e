package signer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/ledger"
)

// TestVaultTrustDomains: the member list says which Vault holds each
// member's keys; a node refuses a list where its own entry is wrong or
// where one Vault holds more than min_threshold members.
func TestVaultTrustDomains(t *testing.T) {
	base, err := os.ReadFile("../configs/node.vault.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pkcs11Base, err := os.ReadFile("../configs/node.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const node2Vault = "    vault: https://vault-2.internal:8200   # node2 has a Vault of its own\n"
	const node3 = "  - id: node3   # on an HSM\n"
	tests := []struct {
		name string
		doc  string
		edit [][2]string // from → to, in order
		want []string    // nil: valid
	}{
		{"ok/the example: each Vault member on its own Vault", string(base), nil, nil},
		{"ok/two on one Vault with min_threshold 2", string(base), [][2]string{
			{node2Vault, "    vault: https://VAULT.internal:8200/\n"},
			{"# min_threshold: 1", "min_threshold: 2"}}, nil},
		{"ok/a pkcs11 node counts the others", string(pkcs11Base), [][2]string{
			{"    identity_key: 3e07fb73add3f387d02ceaad0bf7d51ad3e2a12fc91ff89fe9a8b1d74f10695b\n",
				"    identity_key: 3e07fb73add3f387d02ceaad0bf7d51ad3e2a12fc91ff89fe9a8b1d74f10695b\n    vault: https://v.internal:8200\n"}}, nil},
		{"fail/two members on one Vault (same address written differently)", string(base), [][2]string{
			{node2Vault, "    vault: https://VAULT.internal:8200/\n"}},
			[]string{"the Vault at https://vault.internal:8200 holds the keys of node1, node2", "min_threshold t=1", "rebuild every key"}},
		{"fail/all three on one Vault, t=2", string(base), [][2]string{
			{node2Vault, "    vault: https://vault.internal:8200\n"},
			{node3, node3 + "    vault: https://vault.internal:8200\n"},
			{"# min_threshold: 1", "min_threshold: 2"}},
			[]string{"holds the keys of node1, node2, node3", "t=2"}},
		{"fail/this Vault node does not declare its Vault", string(base), [][2]string{
			{"    vault: https://vault.internal:8200\n", ""}},
			[]string{"members[0] (node1): vault: \"\"", "this node's keys are in the Vault at https://vault.internal:8200"}},
		{"fail/this Vault node declares another Vault", string(base), [][2]string{
			{"    vault: https://vault.internal:8200\n", "    vault: https://elsewhere:8200\n"}},
			[]string{"members[0] (node1): vault: \"https://elsewhere:8200\""}},
		{"fail/this pkcs11 node declares a Vault", string(pkcs11Base), [][2]string{
			{"    identity_key: d8bc91d129ed05e559865f7c484f7266882e02aec84845c84a838346cd25ad07\n",
				"    identity_key: d8bc91d129ed05e559865f7c484f7266882e02aec84845c84a838346cd25ad07\n    vault: https://v.internal:8200\n"}},
			[]string{"this node's keys are on hsm.backend pkcs11"}},
		{"fail/not a Vault address", string(base), [][2]string{{node2Vault, "    vault: vault-2:8200\n"}},
			[]string{"members[1] (node2): vault:"}},
		{"fail/negative min_threshold", string(base), [][2]string{{"# min_threshold: 1", "min_threshold: -1"}},
			[]string{"min_threshold: -1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			for _, e := range tc.edit {
				if !strings.Contains(doc, e[0]) {
					t.Fatalf("example lacks %q", e[0])
				}
				doc = strings.Replace(doc, e[0], e[1], 1)
			}
			cfg, err := DecodeConfig(strings.NewReader(doc))
			if err == nil {
				err = cfg.Validate()
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// TestVaultCommittee: a keygen or reshare committee with more than its
// threshold t on one Vault is refused, whatever min_threshold says.
func TestVaultCommittee(t *testing.T) {
	cfg := &Config{Node: "n1", Members: []MemberConfig{
		{ID: "n1", Vault: "https://a:8200"}, {ID: "n2", Vault: "https://A:8200/"}, {ID: "n3", Vault: "https://b:8200"},
		{ID: "n4"}, {ID: "n5"},
	}}
	tests := []struct {
		name    string
		parties []string
		t       int
		want    string // empty: accepted
	}{
		{"ok/one per Vault", []string{"n1", "n3", "n4"}, 1, ""},
		{"ok/two on one Vault with t=2", []string{"n1", "n2", "n3", "n4", "n5"}, 2, ""},
		{"ok/HSM members only", []string{"n4", "n5"}, 1, ""},
		{"fail/two on one Vault with t=1", []string{"n1", "n2", "n4"}, 1, "the Vault at https://a:8200 holds the keys of n1, n2, more than the threshold t=1 (2 sign)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := cfg.checkVaultCommittee(tc.parties, tc.t)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrVaultTrustDomain) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrVaultTrustDomain naming %q", err, tc.want)
			}
		})
	}
}

// TestKeygenRefusesOneVaultOverThreshold: a node refuses to join a keygen
// or a reshare whose committee keeps more than t shares in one Vault, and
// joins one that does not (up to where it would need pre-parameters).
func TestKeygenRefusesOneVaultOverThreshold(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := ledger.Open(filepath.Join(t.TempDir(), "node.db"), ledger.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := &Config{Node: "node1", Cluster: "c", Members: []MemberConfig{
		{ID: "node1", Vault: "https://vault-a:8200"}, {ID: "node2", Vault: "https://vault-a:8200"}, {ID: "node3"},
	}}
	n := &Node{cfg: cfg, store: st, log: log, now: time.Now, sessions: map[string]*entry{}}
	ctx := context.Background()
	sid := []byte("keygen-session-id-32-bytes-long.")

	keygen := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_KEYGEN, KeyId: "k", Threshold: 1, Parties: []string{"node1", "node2", "node3"}}
	if _, err := n.prepareKeygen(ctx, sid, keygen); !errors.Is(err, ErrVaultTrustDomain) {
		t.Fatalf("fail/keygen t=1 with node1, node2 on one Vault: %v", err)
	}
	reshare := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_RESHARE, KeyId: "k", Parties: []string{"node1", "node3"},
		NewParties: []string{"node1", "node2", "node3"}, NewThreshold: 1, OldThreshold: 1}
	if _, err := n.prepareReshare(ctx, sid, reshare); !errors.Is(err, ErrVaultTrustDomain) {
		t.Fatalf("fail/reshare to t=1 with node1, node2 on one Vault: %v", err)
	}
	keygen.Threshold = 2
	if _, err := n.prepareKeygen(ctx, sid, keygen); errors.Is(err, ErrVaultTrustDomain) {
		t.Fatalf("ok/keygen t=2 refused: %v", err)
	}
}
