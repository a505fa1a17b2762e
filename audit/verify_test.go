package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestVerifyCluster runs three nodes (t=1) through signed requests and
// checks Verify's cross-node findings.
func TestVerifyCluster(t *testing.T) {
	type setup struct {
		nodes   []*testNode
		bundles [][]byte
		trust   *Trust
		since   [][]byte
	}
	base := func(t *testing.T) *setup {
		nodes := newCluster(t, memKS(1), memKS(2), memKS(3))
		for _, n := range nodes {
			n.append(t, keyRec(1, "node1", "node2", "node3"))
		}
		signFlow(t, 1, 1, nodes, 0, 1)
		signFlow(t, 2, 1, nodes, 1, 2)
		signFlow(t, 3, 1, nodes, 2, 0)
		witnessAll(t, nodes)
		return &setup{nodes: nodes, trust: trustOf(t, 1, 2, nodes...)}
	}
	tests := []struct {
		name    string
		mutate  func(t *testing.T, s *setup)
		want    error
		node    string // named by the error
		index   uint64 // for an EntryError
		warning string // in the report
	}{
		{name: "ok/three-nodes"},
		{name: "ok/since-consistent", mutate: func(t *testing.T, s *setup) {
			old, _ := s.nodes[0].log.Checkpoint(context.Background(), 4)
			s.since = [][]byte{old.Note}
			signFlow(t, 4, 1, s.nodes, 0, 2)
			witnessAll(t, s.nodes)
		}},
		{name: "ok/no-trust-file", mutate: func(t *testing.T, s *setup) { s.trust = nil }, warning: "no trust file"},
		{name: "fail/signature-backed-by-one-node", mutate: func(t *testing.T, s *setup) {
			n := s.nodes[0]
			n.append(t, transferRec(5), decisionRec(5, EffectAllow), signatureRec(5, 1, "node1", "node2"))
			witnessAll(t, s.nodes)
		}, want: ErrUnbacked, node: "node1", index: 11},
		{name: "fail/backed-by-a-non-party", mutate: func(t *testing.T, s *setup) {
			// node1 and node3 decided; node1 and node2 signed: node3 backs nothing
			s.nodes[2].append(t, transferRec(5), decisionRec(5, EffectAllow))
			s.nodes[0].append(t, transferRec(5), decisionRec(5, EffectAllow), signatureRec(5, 1, "node1", "node2"))
			witnessAll(t, s.nodes)
		}, want: ErrUnbacked, node: "node1", index: 11},
		{name: "fail/logged-by-a-non-party", mutate: func(t *testing.T, s *setup) {
			for _, n := range s.nodes {
				n.append(t, decisionRec(5, EffectAllow))
			}
			s.nodes[2].append(t, signatureRec(5, 1, "node1", "node2"))
			witnessAll(t, s.nodes)
		}, want: ErrUnbacked, node: "node3", index: 10},
		{name: "fail/decision-denied-elsewhere", mutate: func(t *testing.T, s *setup) {
			s.nodes[1].append(t, decisionRec(5, EffectDeny))
			s.nodes[0].append(t, decisionRec(5, EffectAllow), signatureRec(5, 1, "node1", "node2"))
			witnessAll(t, s.nodes)
		}, want: ErrUnbacked, node: "node1", index: 10},
		{name: "fail/signed-before-own-decision", mutate: func(t *testing.T, s *setup) {
			s.nodes[1].append(t, decisionRec(5, EffectAllow))
			s.nodes[0].append(t, signatureRec(5, 1, "node1", "node2"), decisionRec(5, EffectAllow))
			witnessAll(t, s.nodes)
		}, want: ErrUnbacked, node: "node1", index: 9},
		{name: "fail/key-threshold-raised", mutate: func(t *testing.T, s *setup) {
			// The key was reshared to t=2: 2 decisions no longer suffice.
			r := keyRec(2, "node1", "node2", "node3")
			r.Kind, r.Key.Generation, r.Key.OldParties = KindKeyReshared, 2, []string{"node1", "node2", "node3"}
			s.nodes[2].append(t, r)
			witnessAll(t, s.nodes)
		}, want: ErrUnbacked, node: "node1", index: 4},
		{name: "fail/bundle-missing-one-node", mutate: func(t *testing.T, s *setup) {
			s.bundles = bundlesOf(t, s.nodes[0], s.nodes[2])
		}, want: ErrMissingNode, node: "node2"},
		{name: "fail/duplicate-bundle", mutate: func(t *testing.T, s *setup) {
			s.bundles = append(bundlesOf(t, s.nodes...), s.nodes[1].bundle(t))
		}, want: ErrDuplicateNode, node: "node2"},
		{name: "fail/untrusted-node", mutate: func(t *testing.T, s *setup) {
			s.trust = trustOf(t, 1, 0, s.nodes[0], s.nodes[1])
		}, want: ErrUnknownNode, node: "node3"},
		{name: "ok/uncosigned-tail-pending", mutate: func(t *testing.T, s *setup) {
			s.nodes[2].append(t, transferRec(9)) // not cosigned yet: reported pending, not failed
		}, warning: "ok, 1 pending"},
		{name: "fail/never-cosigned", mutate: func(t *testing.T, s *setup) {
			nodes := newCluster(t, memKS(4), memKS(5), memKS(6))
			for _, n := range nodes {
				n.append(t, keyRec(1, "node1", "node2", "node3"))
			}
			signFlow(t, 1, 1, nodes, 0, 1) // and no peer ever cosigns
			s.nodes, s.trust = nodes, trustOf(t, 1, 2, nodes...)
		}, want: ErrCosignatures, node: "node1"},
		{name: "fail/since-of-a-fork", mutate: func(t *testing.T, s *setup) {
			fork := forkNode(t, s.nodes[0], "fork", transferRec(77))
			s.nodes[0].append(t, transferRec(78))
			witnessAll(t, s.nodes)
			s.since = [][]byte{mustLatest(t, fork)}
		}, want: ErrFork, node: "node1"},
		{name: "fail/fork-seen-by-witnesses", mutate: func(t *testing.T, s *setup) {
			// node1's file is copied and both copies go on; the witnesses
			// cosigned the original; the auditor is handed the copy.
			fork := forkNode(t, s.nodes[0], "fork", transferRec(77))
			s.nodes[0].append(t, transferRec(78))
			witnessAll(t, s.nodes)
			s.bundles = append([][]byte{fork.bundle(t)}, bundlesOf(t, s.nodes[1:]...)...)
		}, want: ErrFork, node: "node1"},
		{name: "fail/since-of-another-key", mutate: func(t *testing.T, s *setup) {
			s.since = [][]byte{mustLatest(t, newTestNode(t, "node1", memKS(50)))}
		}, want: ErrSignature, node: "node1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base(t)
			if tc.mutate != nil {
				tc.mutate(t, s)
			}
			if s.bundles == nil {
				s.bundles = bundlesOf(t, s.nodes...)
			}
			rep, err := verifyBundles(t, s.trust, s.since, s.bundles...)
			var text strings.Builder
			rep.WriteText(&text)
			if tc.warning != "" && !strings.Contains(text.String(), tc.warning) {
				t.Errorf("report lacks %q", tc.warning)
			}
			if tc.want == nil {
				if err != nil || !strings.Contains(text.String(), "RESULT: OK") {
					t.Fatalf("Verify: %v", err)
				}
				if rep.Signatures == 0 || rep.Backed != rep.Signatures {
					t.Fatalf("signatures %d, backed %d", rep.Signatures, rep.Backed)
				}
				return
			}
			if !errors.Is(err, tc.want) || problemNode(err) != "coffer/t/"+tc.node {
				t.Fatalf("Verify = %v, want %v naming %s", err, tc.want, tc.node)
			}
			var ee *EntryError
			if errors.As(err, &ee) && ee.Index != tc.index {
				t.Fatalf("Verify named entry %d, want %d", ee.Index, tc.index)
			}
			if !strings.Contains(text.String(), "RESULT: FAIL") {
				t.Fatal("report does not say FAIL")
			}
		})
	}
}

// TestVerifySoftHSMCluster is the happy path with every node's key in
// SoftHSM.
func TestVerifySoftHSMCluster(t *testing.T) {
	nodes := newCluster(t, softHSM(t), softHSM(t), softHSM(t))
	for i := range 6 {
		signFlow(t, i, 1, nodes, i%3, (i+1)%3)
		witnessAll(t, nodes)
	}
	rep, err := verifyBundles(t, trustOf(t, 1, 2, nodes...), nil, bundlesOf(t, nodes...)...)
	if err != nil || rep.Backed != 6 {
		t.Fatalf("Verify: %v (backed %d)", err, rep.Backed)
	}
}

func TestVerifyEdges(t *testing.T) {
	n := newTestNode(t, "node1", memKS(1))
	n.append(t, transferRec(1))
	ctx := context.Background()
	if _, err := Verify(ctx, nil, nil, nil); !errors.Is(err, ErrMissingNode) {
		t.Errorf("Verify(no bundles) = %v, want ErrMissingNode", err)
	}
	// A Trust built as a literal is validated on use.
	lit := &Trust{Nodes: []string{n.vkey(t)}}
	if _, err := Verify(ctx, readBundles(t, n.bundle(t)), lit, nil); err != nil {
		t.Errorf("Verify(trust literal) = %v", err)
	}
	bad := &Trust{Nodes: []string{"nonsense"}}
	if _, err := Verify(ctx, readBundles(t, n.bundle(t)), bad, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify(bad trust) = %v, want ErrMalformed", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Verify(cancelled, readBundles(t, n.bundle(t)), lit, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(cancelled) = %v", err)
	}
}
