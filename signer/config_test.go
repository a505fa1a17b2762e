package signer

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := LoadConfig("../configs/node.example.yaml")
	if err != nil {
		t.Fatalf("configs/node.example.yaml: %v", err)
	}
	if cfg.Node != "node1" || len(cfg.Members) != 3 || cfg.SelfTestSigning {
		t.Fatalf("unexpected example: %+v", cfg)
	}
}

func TestConfigValidation(t *testing.T) {
	base, err := os.ReadFile("../configs/node.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to string
		want           []string // every one must be reported
	}{
		{"ok/as is", "", "", nil},
		{"fail/unknown field", "store:", "storage:", []string{"storage"}},
		{"fail/inline PIN", "    pin_file: /etc/coffer/node1.pin", "    pin: 1234", []string{"pin"}},
		{"fail/listen on every interface", "peer: 127.0.0.1:7101\n  # Client", "peer: 0.0.0.0:7101\n  # Client", []string{"listen.peer"}},
		{"fail/self not a member", "node: node1", "node: node7", []string{"node7"}},
		{"fail/bad identity key", "identity_key: d8bc", "identity_key: zz", []string{"members[0]"}},
		{"fail/unknown top-level field", "cluster: prod-eu", "cluster: prod-eu\nsessions2: 1", []string{"sessions2"}},
		{"fail/unknown log level", "level: info", "level: loud", []string{"log.level"}},
		{"fail/bad pool size", "pool_size: 2", "pool_size: -1", []string{"preparams.pool_size"}},
		{"ok/limits", "  # limits:\n", "  limits: {max_conns_per_source: 8, handshakes_per_second: 0.5, handshake_burst: 4}\n", nil},
		{"fail/bad limits", "  # limits:\n", "  limits: {max_conns_per_source: -1, handshakes_per_second: -5, handshake_burst: 100001}\n",
			[]string{"listen.limits: max_conns_per_source", "handshakes_per_second", "handshake_burst"}},
		{"fail/unknown limit", "  # limits:\n", "  limits: {conns: 3}\n", []string{"conns"}},
		{"ok/revoked", "  # revoked:\n", "  revoked: {serials: [\"5D:72:ca\"], spki_sha256: [\"" + strings.Repeat("ab", 32) + "\"]}\n", nil},
		{"fail/bad revoked", "  # revoked:\n", "  revoked: {serials: [\"xyz\", \"\"], spki_sha256: [\"abcd\"]}\n",
			[]string{"tls.revoked", "serials[0]", "serials[1]", "spki_sha256[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := string(base)
			if tc.from != "" {
				if !strings.Contains(doc, tc.from) {
					t.Fatalf("example lacks %q", tc.from)
				}
				doc = strings.Replace(doc, tc.from, tc.to, 1)
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
					t.Fatalf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestValidateJoinsEveryError(t *testing.T) {
	cfg, err := DecodeConfig(strings.NewReader("node: \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	for _, w := range []string{"node: required", "cluster: required", "tls.ca", "store.path", "members"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("missing %q in %v", w, err)
		}
	}
}

// configs/cluster-3 holds the three nodes of one cluster on three
// machines: each loads, names itself, listens where the shared members
// list says it does, and all three list the same members.
func TestClusterThreeExample(t *testing.T) {
	var first []MemberConfig
	for i, n := range []string{"node1", "node2", "node3"} {
		cfg, err := LoadConfig("../configs/cluster-3/" + n + ".yaml")
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if cfg.Node != n || cfg.SelfTestSigning || len(cfg.Members) != 3 || cfg.Members[i].ID != n {
			t.Fatalf("%s: node %s, %d members", n, cfg.Node, len(cfg.Members))
		}
		m := cfg.Members[i]
		if m.Peer != cfg.Listen.Peer || m.API != cfg.Listen.API || m.Raft != cfg.Listen.Raft {
			t.Errorf("%s listens on %s/%s/%s, its member entry says %s/%s/%s", n,
				cfg.Listen.Peer, cfg.Listen.API, cfg.Listen.Raft, m.Peer, m.API, m.Raft)
		}
		if first == nil {
			first = cfg.Members
		} else if !slices.Equal(first, cfg.Members) {
			t.Errorf("%s lists other members than node1", n)
		}
	}
}
