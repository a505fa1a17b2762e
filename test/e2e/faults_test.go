package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/ledger"
)

// testKillMidSession kills node3 (SIGKILL, by PID) during a keygen: the
// session fails within its deadline naming node3, and the others go on.
func testKillMidSession(t *testing.T, c *devcluster.Cluster) {
	var once sync.Once
	start := time.Now()
	_, err := keygen(c, "node1", "doomed", 1, []string{"node1", "node2", "node3"}, func(int) {
		once.Do(func() { c.KillNode("node3") })
	})
	if err == nil {
		t.Fatal("keygen survived the death of a party")
	}
	if took := time.Since(start); took > 50*time.Second {
		t.Fatalf("failure took %s, beyond the 45s deadline", took)
	}
	// node3 must be named. A peer that reports node3 gone may reach the
	// coordinator first: it is then named too (a node's word about another
	// is never taken as blame), so node3 need not be named alone.
	if !culpritsInclude(err.Error(), "node3") {
		t.Fatalf("culprit not named: %v", err)
	}
	if _, ok, err := selfTestSign(c, "hot-1", []string{"node1", "node2"}, nil); err != nil || !ok {
		t.Fatalf("node1+node2 stopped serving: %v", err)
	}
	if err := c.StartNode(context.Background(), "node3"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := selfTestSign(c, "hot-1", []string{"node3", "node2"}, nil); err != nil || !ok {
		t.Fatalf("restarted node3 does not sign: %v", err)
	}
}

// testNoPlaintextSecrets stops the nodes, unseals each share with its HSM,
// and searches every store and log for the share, its pre-parameters and
// the PIN, in binary and text forms.
func testNoPlaintextSecrets(t *testing.T, c *devcluster.Cluster) {
	l := c.Layout
	c.Stop()
	for _, n := range l.Nodes {
		sh, err := l.UnsealShare(context.Background(), n.ID, "hot-1")
		if err != nil {
			t.Fatal(err)
		}
		pin, _ := os.ReadFile(filepath.Join(l.Dir, n.ID, "pin"))
		needles := map[string][]byte{"PIN": bytes.TrimSpace(pin)}
		for name, v := range map[string]interface {
			Bytes() []byte
			String() string
		}{"share xi": sh.Data.Xi, "paillier p": sh.Data.PaillierSK.P, "safe prime P": sh.Data.P, "alpha": sh.Data.Alpha} {
			needles[name+" (bytes)"] = v.Bytes()
			needles[name+" (decimal)"] = []byte(v.String())
			needles[name+" (hex)"] = []byte(hex.EncodeToString(v.Bytes()))
			needles[name+" (base64)"] = []byte(base64.StdEncoding.EncodeToString(v.Bytes())[:40])
		}
		for _, f := range []string{n.Store, n.Log} {
			hay, err := os.ReadFile(l.Path(f))
			if err != nil {
				t.Fatal(err)
			}
			if len(hay) == 0 {
				t.Fatalf("%s is empty: nothing was searched", f)
			}
			for name, needle := range needles {
				if len(needle) < 8 {
					t.Fatalf("needle %s too short to search", name)
				}
				if bytes.Contains(hay, needle) {
					t.Errorf("%s of %s appears in plaintext in %s", name, n.ID, f)
				}
			}
		}
		sh.Zero()
	}
}

// testStartupFaults: a wrong PIN, a missing token or a missing key stop
// cofferd at start with a message naming what is wrong (nodes stopped).
func testStartupFaults(t *testing.T, c *devcluster.Cluster) {
	l := c.Layout
	n, _ := l.Node("node1")
	base, err := os.ReadFile(l.Path(n.Config))
	if err != nil {
		t.Fatal(err)
	}
	pin, _ := os.ReadFile(filepath.Join(l.Dir, "node1", "pin"))
	if err := os.WriteFile(filepath.Join(l.Dir, "node1", "wrong-pin"), []byte("0000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"fail/wrong PIN", "pin_file: pin", "pin_file: wrong-pin", "coffer-node1"},
		{"fail/missing token", "token_label: coffer-node1", "token_label: coffer-node9", "coffer-node9"},
		{"fail/missing sealing key", "seal_key_label: coffer-seal", "seal_key_label: no-such-seal", "no-such-seal"},
		{"fail/missing identity key", "identity_key_label: coffer-node", "identity_key_label: no-such-id", "no-such-id"},
		{"fail/unknown config field", "store:", "stor:", "stor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(base, []byte(tc.from)) {
				t.Fatalf("config lacks %q", tc.from)
			}
			cfg := filepath.Join(l.Dir, "node1", "bad.yaml")
			if err := os.WriteFile(cfg, bytes.Replace(base, []byte(tc.from), []byte(tc.to), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(binDir, "cofferd"), "run", "--config", cfg)
			cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+l.SoftHSM2Conf)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatal("cofferd started")
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("message does not name %q:\n%s", tc.want, out)
			}
			if tc.name == "fail/wrong PIN" && !strings.Contains(string(out), "login refused") {
				t.Fatalf("message does not say the PIN was refused:\n%s", out)
			}
			if bytes.Contains(out, bytes.TrimSpace(pin)) {
				t.Fatal("the PIN was printed")
			}
		})
	}
}

// testCopiedShare copies node1's sealed share into node2's store: it does
// not unseal there, offline, and node2 refuses to start with it.
func testCopiedShare(t *testing.T, c *devcluster.Cluster) {
	l := c.Layout
	read := func(node string) ledger.KeyRecord {
		n, _ := l.Node(node)
		db, err := bolt.Open(l.Path(n.Store), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var rec ledger.KeyRecord
		_ = db.View(func(tx *bolt.Tx) error { return json.Unmarshal(tx.Bucket([]byte("keys")).Get([]byte("hot-1")), &rec) })
		return rec
	}
	src := read("node1")
	dst := read("node2")
	if src.SealedShare == nil || dst.SealedShare == nil || bytes.Equal(src.SealedShare, dst.SealedShare) {
		t.Fatal("precondition: both nodes hold distinct sealed shares")
	}
	dst.SealedShare = src.SealedShare
	n2, _ := l.Node("node2")
	db, err := bolt.Open(l.Path(n2.Store), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	val, _ := json.Marshal(dst)
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("keys")).Put([]byte("hot-1"), val) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.UnsealShare(context.Background(), "node2", "hot-1"); !errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("copied share opened offline: %v", err)
	}
	// node2 opens each of its shares once at start: node1's share under
	// node2's record does not open, and node2 does not start
	err = c.StartNode(context.Background(), "node2")
	if err == nil || !strings.Contains(err.Error(), "bucket keys, key hot-1: the sealed share") || !strings.Contains(err.Error(), l.Path(n2.Store)) {
		t.Fatalf("node2 started with node1's share in its store: %v", err)
	}
	for _, id := range []string{"node1", "node3"} {
		if err := c.StartNode(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
}

// culpritsInclude reports whether the session error's culprit list
// ("culprit: a, b") names node.
func culpritsInclude(msg, node string) bool {
	i := strings.LastIndex(msg, "culprit: ")
	if i < 0 {
		return false
	}
	list := msg[i+len("culprit: "):]
	if j := strings.IndexAny(list, "])"); j >= 0 {
		list = list[:j]
	}
	for _, c := range strings.Split(list, ",") {
		if strings.TrimSpace(c) == node {
			return true
		}
	}
	return false
}
