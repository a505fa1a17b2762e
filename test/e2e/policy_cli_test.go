package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func policyExample(t *testing.T) string {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "configs", "policy.example.yaml")
}

// TestPolicyCLI drives `coffer policy` as an operator and an officer would.
func TestPolicyCLI(t *testing.T) {
	example := policyExample(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("ok/lint and hash the example", func(t *testing.T) {
		runCoffer(t, "policy", "lint", example)
		h := strings.TrimSpace(runCoffer(t, "policy", "hash", example))
		if !regexp.MustCompile(`[0-9a-f]{64}`).MatchString(h) {
			t.Fatalf("hash: %q", h)
		}
		// comments and layout do not change the content hash
		b, _ := os.ReadFile(example)
		var kept []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				kept = append(kept, l)
			}
		}
		if h2 := strings.TrimSpace(runCoffer(t, "policy", "hash", write("nocomments.yaml", strings.Join(kept, "\n")))); h2 != h {
			t.Fatalf("hash changed without comments: %s vs %s", h2, h)
		}
	})
	t.Run("fail/lint names every problem", func(t *testing.T) {
		b, _ := os.ReadFile(example)
		bad := strings.Replace(string(b), "assets:", "assetz:", 1)
		out, err := exec.Command(filepath.Join(binDir, "coffer"), "policy", "lint", write("bad.yaml", bad)).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "assetz") {
			t.Fatalf("lint accepted an unknown field: %v\n%s", err, out)
		}
	})
	req := func(name, src, to, amount string) string {
		return write(name, `{"id":"`+name+`","digest":"00000000000000000000000000000000000000000000000000000000000000aa","initiator":"withdrawal-svc","initiator_role":"withdrawal","source":"`+src+`","to":"`+to+`","asset":"BTC","amount":"`+amount+`","fee":"1000","vsize":141,"network":"mainnet","submitted_at":"2026-11-21T10:00:00Z"}`)
	}
	t.Run("fail/cold to external is denied with its reason", func(t *testing.T) {
		out := runCoffer(t, "policy", "explain", example, "--request", req("r1", "btc-cold", "bc1qexternal0000000000000000000000000000000", "100000"), "--now", "2026-11-21T12:00:00Z")
		if !strings.Contains(out, "decision:   deny") || !strings.Contains(out, "pins") && !strings.Contains(out, "pinned") {
			t.Fatalf("explain:\n%s", out)
		}
	})
	t.Run("ok/hot to cold sweep is allowed", func(t *testing.T) {
		out := runCoffer(t, "policy", "explain", example, "--request", req("r2", "btc-hot", "bc1q7cd0ld9xs3km5vw8zj2r4t6yep0n9a2huq8fc3", "100000"), "--now", "2026-11-21T12:00:00Z")
		if !strings.Contains(out, "decision:   allow") {
			t.Fatalf("explain:\n%s", out)
		}
	})
	t.Run("ok/keygen and sign", func(t *testing.T) {
		key := filepath.Join(dir, "admin.key")
		out := runCoffer(t, "policy", "keygen", "--out", key)
		if strings.Contains(out, "PRIVATE KEY") {
			t.Fatal("keygen printed the private key")
		}
		if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", st, err)
		}
		// a key that is no admin of the policy is refused unless named
		out2, err := exec.Command(filepath.Join(binDir, "coffer"), "policy", "sign", "--key", key, example).CombinedOutput()
		if err == nil || !strings.Contains(string(out2), "no admin of this policy") {
			t.Fatalf("sign with a stranger's key: %v\n%s", err, out2)
		}
		sigOut := runCoffer(t, "policy", "sign", "--key", key, "--admin", "admin-ana", "--out", filepath.Join(dir, "sig.json"), example)
		b, err := os.ReadFile(filepath.Join(dir, "sig.json"))
		if err != nil || !strings.Contains(string(b), "admin-ana") {
			t.Fatalf("no signature written: %s %s", sigOut, b)
		}
	})
}
