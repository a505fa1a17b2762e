package audit

import (
	"context"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

// newCluster opens one node per keystore, named node1.., each configured
// with the others as cosigning peers.
func newCluster(t testing.TB, keystores ...hsm.Keystore) []*testNode {
	t.Helper()
	var nodes []*testNode
	for i, ks := range keystores {
		nodes = append(nodes, &testNode{name: nodeN(i + 1), ks: ks})
	}
	var out []*testNode
	for i, n := range nodes {
		var peers []string
		for j, m := range nodes {
			if i != j {
				peers = append(peers, m.vkey(t))
			}
		}
		out = append(out, newTestNode(t, n.name, n.ks, peers...))
	}
	return out
}

func nodeN(i int) string { return "node" + string(rune('0'+i)) }

// witness has w cosign target's latest checkpoint (proving consistency
// from the last one w cosigned) and hands the cosignature back.
func witness(t testing.TB, w, target *testNode) {
	t.Helper()
	ctx := context.Background()
	latest, err := target.log.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p [][]byte
	if last, ok, err := w.log.LastCosigned(ctx, target.origin()); err != nil {
		t.Fatal(err)
	} else if ok {
		if p, err = target.log.ConsistencyProof(ctx, last.Size, latest.Size); err != nil {
			t.Fatal(err)
		}
	}
	cosigned, err := w.log.Cosign(ctx, latest.Note, p)
	if err != nil {
		t.Fatalf("%s cosigns %s: %v", w.name, target.name, err)
	}
	if err := target.log.AddCosignatures(ctx, cosigned); err != nil {
		t.Fatalf("%s adds %s's cosignature: %v", target.name, w.name, err)
	}
}

// witnessAll has every node cosign every other's latest checkpoint.
func witnessAll(t testing.TB, nodes []*testNode) {
	for _, w := range nodes {
		for _, target := range nodes {
			if w != target {
				witness(t, w, target)
			}
		}
	}
}

// signFlow logs request i signed by the parties (t = len-1 of them
// needed... t given): each party logs the submission, its allow decision
// and the session start; the coordinator (first party) then logs the
// signature. Others log the submission only.
func signFlow(t testing.TB, i, threshold int, nodes []*testNode, parties ...int) {
	t.Helper()
	var names []string
	for _, p := range parties {
		names = append(names, nodes[p].name)
	}
	in := map[int]bool{}
	for _, p := range parties {
		in[p] = true
	}
	for k, n := range nodes {
		n.append(t, transferRec(i))
		if in[k] {
			n.append(t, decisionRec(i, EffectAllow), sessionRec(i, names...))
		}
	}
	nodes[parties[0]].append(t, signatureRec(i, threshold, names...))
}

func bundlesOf(t testing.TB, nodes ...*testNode) [][]byte {
	var out [][]byte
	for _, n := range nodes {
		out = append(out, n.bundle(t))
	}
	return out
}
