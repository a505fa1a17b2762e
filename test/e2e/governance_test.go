package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
)

// testPolicyGovernance: a rollback and a version short of the admin quorum
// are refused; a tightening version signed by the quorum becomes active on
// every node at once.
func testPolicyGovernance(t *testing.T, c *devcluster.Cluster, tr *devcluster.Treasury) {
	ctx := context.Background()
	l := tr.Layout
	genesis, err := os.ReadFile(tr.PolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := policy.Load(genesis)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(doc []byte, admins ...string) [][]byte {
		p, err := policy.Load(doc)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for _, a := range admins {
			kp, _ := os.ReadFile(filepath.Join(l.Dir, a+".key"))
			k, err := pki.ParseKeyPEM(kp)
			if err != nil {
				t.Fatal(err)
			}
			s, err := policy.SignPolicy(rand.Reader, k, a, p.Hash())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(s)
			out = append(out, b)
		}
		return out
	}
	// version 2: the partner limit tightened from 10 to 5 transfers an hour
	v2 := strings.Replace(string(genesis), "version: 1\nparent: \"\"", "version: 2\nparent: \""+p1.Hash().String()+"\"", 1)
	v2 = strings.Replace(v2, `max_amount: "50000000", max_count: 10`, `max_amount: "50000000", max_count: 5`, 1)
	if v2 == string(genesis) || !strings.Contains(v2, "max_count: 5") {
		t.Fatal("could not derive version 2")
	}
	op := dial(t, c, "node2").Operator
	t.Run("fail/signed by fewer admins than the quorum", func(t *testing.T) {
		_, err := op.SubmitPolicy(ctx, &operatorpb.SubmitPolicyRequest{Document: []byte(v2), Signatures: sign([]byte(v2), "admin-ana")})
		if err == nil || !strings.Contains(err.Error(), "quorum") {
			t.Fatalf("one admin activated a policy: %v", err)
		}
	})
	t.Run("ok/a tightening version is active on every node, also one that was down", func(t *testing.T) {
		c.StopNode("node3") // down while the version is submitted
		info, err := op.SubmitPolicy(ctx, &operatorpb.SubmitPolicyRequest{Document: []byte(v2), Signatures: sign([]byte(v2), "admin-ana", "admin-ben")})
		if err != nil {
			t.Fatal(err)
		}
		if info.Change != "tightening" || info.ActiveVersion != 2 {
			t.Fatalf("after submit: %+v", info)
		}
		active := func(n string) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for {
				got, err := dial(t, c, n).Operator.GetPolicy(ctx, &operatorpb.GetPolicyRequest{})
				if err == nil && got.ActiveVersion == 2 && got.ActiveHash == info.HeadHash {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %+v %v", n, got, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		active("node1")
		active("node2")
		// node3 comes back and learns the version from the log
		if err := c.StartNode(ctx, "node3"); err != nil {
			t.Fatal(err)
		}
		active("node3")
	})
	t.Run("fail/rollback to the genesis version after version 2", func(t *testing.T) {
		_, err := op.SubmitPolicy(ctx, &operatorpb.SubmitPolicyRequest{Document: genesis, Signatures: sign(genesis, "admin-ana", "admin-ben")})
		if err == nil || !strings.Contains(err.Error(), "rollback") {
			t.Fatalf("a rollback was not refused as one: %v", err)
		}
	})
}
