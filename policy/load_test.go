package policy_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

const examplePath = "../configs/policy.example.yaml"

func readExample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecode(t *testing.T) {
	example := string(readExample(t))
	tests := []struct {
		name string
		yaml string
		want error
	}{
		{"ok/example", example, nil},
		{"ok/amount-as-plain-integer", strings.Replace(example, `max_fee: "500000"`, `max_fee: 500000`, 1), nil},
		{"ok/duration-in-days", strings.Replace(example, "loosen_delay: 48h", "loosen_delay: 2d", 1), nil},
		{"fail/empty", "", policy.ErrSyntax},
		{"fail/unknown-top-level-field", "versoin: 1\n" + example, policy.ErrSyntax},
		{"fail/unknown-nested-field", strings.Replace(example, "    action: allow\n", "    action: allow\n    approve: yes\n", 1), policy.ErrSyntax},
		{"fail/duplicate-key", strings.Replace(example, "loosen_delay: 48h", "loosen_delay: 48h\nloosen_delay: 1h", 1), policy.ErrSyntax},
		{"fail/second-document", example + "\n---\nversion: 2\n", policy.ErrMultipleDocuments},
		{"fail/amount-in-exponent-form", strings.Replace(example, `max_fee: "500000"`, `max_fee: 5e5`, 1), policy.ErrSyntax},
		{"fail/negative-amount", strings.Replace(example, `max_fee: "500000"`, `max_fee: "-500000"`, 1), policy.ErrSyntax},
		{"fail/amount-above-256-bits", strings.Replace(example, `max_fee: "500000"`, `max_fee: "`+strings.Repeat("9", 78)+`"`, 1), policy.ErrSyntax},
		{"fail/malformed-duration", strings.Replace(example, "loosen_delay: 48h", "loosen_delay: two days", 1), policy.ErrSyntax},
		{"fail/negative-duration", strings.Replace(example, "loosen_delay: 48h", "loosen_delay: -48h", 1), policy.ErrSyntax},
		{"fail/wrong-type", strings.Replace(example, "quorum: 2", "quorum: two", 1), policy.ErrSyntax},
		{"fail/too-large", strings.Repeat("#", policy.MaxDocumentSize+1), policy.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Decode([]byte(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestExamplePolicy loads and lints configs/policy.example.yaml and checks
// that it shows the defaults of DESIGN.md §6.
func TestExamplePolicy(t *testing.T) {
	p, err := policy.Load(readExample(t))
	if err != nil {
		t.Fatalf("lint %s: %v", examplePath, err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const (
		btcHot, btcCold, btcSAFU = "bc1qhx3w5ryl0n2zkv8m4xq7c6dt9a0jw3lpe5h2gf", "bc1q7cd0ld9xs3km5vw8zj2r4t6yep0n9a2huq8fc3", "bc1qsafu4m6n8p0r2t4v6x8z0a2c4e6g8j0l2n4q6s"
		kraken                   = "bc1q9rn8qxu3eklgadgh7v7q2d7rf7k2gy7hcvfdx4"
	)
	bal := policy.Snapshot{}
	// hot → cold sweep: allowed without approvals, within limits.
	expect(t, evaluate(t, p, bal, pt.BTC("sweep", "btc-hot", btcCold, 500_000_000, now), now), policy.EffectAllow, "sweep-btc")
	over := policy.Snapshot{Spends: []policy.Spend{spend(now.Add(-time.Hour), "btc-hot", btcCold, "sweep-btc", "BTC", "19900000000")}}
	expect(t, evaluate(t, p, over, pt.BTC("sweep", "btc-hot", btcCold, 500_000_000, now), now), policy.EffectDeny, "sweep-btc")
	// cold → hot: 2 treasury approvals and a timelock.
	refill := pt.BTC("refill", "btc-cold", btcHot, 100_000_000, now)
	d := evaluate(t, p, bal, refill, now)
	expect(t, d, policy.EffectPending, "refill-from-cold")
	if len(d.Missing) != 2 || d.Missing[0].Group != "treasury" || d.Missing[0].Need != 2 || d.Missing[1].Kind != policy.MissingTimelock {
		t.Errorf("refill missing %+v", d.Missing)
	}
	approved := bal
	approved.Approvals = []policy.Approval{pt.Approve("tom", refill.Digest, now), pt.Approve("tina", refill.Digest, now)}
	expect(t, evaluate(t, p, approved, refill, now.Add(6*time.Hour)), policy.EffectAllow, "refill-from-cold")
	// cold → external: denied.
	expect(t, evaluate(t, p, bal, pt.BTC("out", "btc-cold", kraken, 1000, now), now), policy.EffectDeny, "")
	// SAFU outflows: treasury AND risk, and a longer timelock.
	safu := pt.BTC("safu", "btc-safu", btcCold, 100_000_000, now)
	d = evaluate(t, p, bal, safu, now)
	expect(t, d, policy.EffectPending, "safu-outflow")
	if len(d.Missing) != 3 || d.Missing[0].Group != "risk" || d.Missing[1].Group != "treasury" || !d.NotBefore.Equal(now.Add(72*time.Hour)) {
		t.Errorf("safu missing %+v, not before %v", d.Missing, d.NotBefore)
	}
	// hot → external: whitelisted only, under hourly velocity limits.
	expect(t, evaluate(t, p, bal, pt.BTC("w", "btc-hot", kraken, 50_000_000, now), now), policy.EffectAllow, "withdraw-btc")
	expect(t, evaluate(t, p, bal, pt.BTC("w", "btc-hot", "bc1qnotwhitelisted00000000000000000000000", 1000, now), now), policy.EffectDeny, "")
	hourly := policy.Snapshot{Spends: []policy.Spend{spend(now.Add(-30*time.Minute), "btc-hot", kraken, "withdraw-btc", "BTC", "190000000")}}
	expect(t, evaluate(t, p, hourly, pt.BTC("w", "btc-hot", kraken, 50_000_000, now), now), policy.EffectDeny, "withdraw-btc")
}

// reformat rewrites a YAML document: no comments, every mapping's keys in
// reverse order, flow style everywhere, ETH addresses in upper case.
func reformat(t *testing.T, src []byte) []byte {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		t.Fatal(err)
	}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
		if n.Kind == yaml.MappingNode {
			for i, j := 0, len(n.Content)-2; i < j; i, j = i+2, j-2 {
				n.Content[i], n.Content[j] = n.Content[j], n.Content[i]
				n.Content[i+1], n.Content[j+1] = n.Content[j+1], n.Content[i+1]
			}
		}
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			n.Style = yaml.FlowStyle
		}
		if n.Kind == yaml.ScalarNode && len(n.Value) == 42 && strings.HasPrefix(n.Value, "0x") {
			n.Value = "0x" + strings.ToUpper(n.Value[2:])
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHashIsCanonical(t *testing.T) {
	src := readExample(t)
	p, err := policy.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(p.Canonical()); sum != p.Hash() {
		t.Fatal("hash is not SHA-256 of the canonical encoding")
	}
	if !json.Valid(p.Canonical()) {
		t.Fatal("canonical encoding is not JSON")
	}
	re := reformat(t, src)
	if bytes.Equal(re, src) || bytes.Contains(re, []byte("#")) {
		t.Fatal("reformat did not change the document")
	}
	q, err := policy.Load(re)
	if err != nil {
		t.Fatalf("load reformatted: %v", err)
	}
	if q.Hash() != p.Hash() {
		t.Fatalf("hash changed with formatting: %s vs %s", q.Hash(), p.Hash())
	}
	// The same document built from Go values, with sets shuffled.
	r := rng(t, 9)
	s, err := policy.New(pt.ShuffleDoc(r, p.Document()))
	if err != nil || s.Hash() != p.Hash() {
		t.Fatalf("hash of shuffled document: %v", err)
	}
	// Rule order and any value do change it.
	d := p.Document()
	d.Rules[0], d.Rules[1] = d.Rules[1], d.Rules[0]
	if mustPolicy(t, d).Hash() == p.Hash() {
		t.Fatal("rule order does not change the hash")
	}
	d = p.Document()
	d.ApprovalTTL++
	if mustPolicy(t, d).Hash() == p.Hash() {
		t.Fatal("approval_ttl does not change the hash")
	}
}
