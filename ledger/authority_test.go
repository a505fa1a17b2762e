package ledger

import (
	"errors"
	"slices"
	"testing"
)

// replicated applies commands as entries of a replicated log, each from
// the node the command names, with increasing indexes and sequences.
type replicated struct {
	t   *testing.T
	s   *Store
	idx uint64
}

func newReplicated(t *testing.T) *replicated {
	s := openFast(t)
	s.SetApprovalVerifier(fakeVerifier{})
	return &replicated{t: t, s: s}
}

func (r *replicated) apply(c Command) (Transfer, error) {
	r.idx++
	out, _, err := r.s.ApplyIndexed(r.idx, Origin{Node: c.Node, Seq: r.idx}, c)
	return out, err
}

func (r *replicated) must(c Command) Transfer {
	r.t.Helper()
	out, err := r.apply(c)
	if err != nil {
		r.t.Fatalf("%s by %s: %v", c.Kind, c.Node, err)
	}
	return out
}

func by(node string, c Command) Command { return with(c, func(c *Command) { c.Node = node }) }

func TestReplicatedAuthority(t *testing.T) {
	r := newReplicated(t)
	r.must(submit("t1", StatePendingApproval))
	tests := []struct {
		name string
		cmd  Command
		want error
	}{
		{"fail/a node submits a transfer homed on another", by("n2", submit("t2", StateReady)), ErrConflict},
		{"fail/a node other than the home moves the state", by("n2", setStateCmd("t1", StateReady)), ErrConflict},
		{"fail/an approval whose signature does not verify", with(approveCmd("t1", "alice", "approve"), func(c *Command) {
			c.Approval.Signature = []byte("sig:mallory:approve")
		}), ErrConflict},
		{"ok/a verified approval", approveCmd("t1", "alice", "approve"), nil},
		{"ok/the home moves the state", setStateCmd("t1", StateReady), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := dump(t, r.s, transferBuckets...)
			_, err := r.apply(tc.cmd)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrRefused) || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want a refusal wrapping %v", err, tc.want)
			}
			if string(before) != string(dump(t, r.s, transferBuckets...)) {
				t.Fatal("a refused command changed the transfers")
			}
		})
	}
	t.Run("fail/the command names another proposer than the entry's signer", func(t *testing.T) {
		r.idx++
		_, _, err := r.s.ApplyIndexed(r.idx, Origin{Node: "n2", Seq: r.idx}, setStateCmd("t1", StateDenied))
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("fail/no verifier, no replicated approval", func(t *testing.T) {
		s := openFast(t)
		_, _, _ = s.ApplyIndexed(1, origin(1), submit("t1", StatePendingApproval))
		if _, _, err := s.ApplyIndexed(2, origin(2), approveCmd("t1", "alice", "approve")); !errors.Is(err, ErrRefused) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestReplicatedHolds: every signer of a session holds the reservation;
// each releases only its own hold; the spend counts while any hold stays.
func TestReplicatedHolds(t *testing.T) {
	r := newReplicated(t)
	r.must(submit("t1", StateReady))
	r.must(by("n1", reserveCmd("t1", "s1", "a:0")))
	got := r.must(by("n2", reserveCmd("t1", "s1", "a:0")))
	if !slices.Equal(got.Reservation.Holders, []string{"n1", "n2"}) || got.Attempts != 1 {
		t.Fatalf("holders %v attempts %d", got.Reservation.Holders, got.Attempts)
	}
	if _, err := r.apply(by("n3", releaseCmd("t1", "s1"))); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/a node that holds nothing releases: %v", err)
	}
	got = r.must(by("n1", releaseCmd("t1", "s1")))
	if got.State != StateSigning || !slices.Equal(got.Reservation.Holders, []string{"n2"}) {
		t.Fatalf("after n1's release: %s %v", got.State, got.Reservation.Holders)
	}
	if sp, _ := r.s.Spends(at(-1)); len(sp) != 1 {
		t.Fatalf("the spend stopped counting while n2 holds it: %d spends", len(sp))
	}
	if _, err := r.apply(by("n1", completeCmd("t1", "s1", "tx"))); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/a node that released completes: %v", err)
	}
	got = r.must(by("n2", releaseCmd("t1", "s1")))
	if got.State != StateFailed || got.Reservation != nil {
		t.Fatalf("after the last release: %s %v", got.State, got.Reservation)
	}
	if sp, _ := r.s.Spends(at(-1)); len(sp) != 0 {
		t.Fatalf("spend still counts after every hold was released")
	}
	r.must(by("n2", with(reserveCmd("t1", "s2", "a:0"), func(c *Command) { c.At = at(20) })))
	r.must(by("n3", with(reserveCmd("t1", "s2", "a:0"), func(c *Command) { c.At = at(20) })))
	if got = r.must(by("n3", completeCmd("t1", "s2", "tx"))); got.State != StateSigned {
		t.Fatalf("complete by a holder: %s", got.State)
	}
}

// TestReplicatedLimitsExact: a reservation decided before another
// transfer's spend changed is refused; decided after, it applies.
func TestReplicatedLimitsExact(t *testing.T) {
	r := newReplicated(t)
	r.must(submit("t1", StateReady))
	r.must(submit("t2", StateReady)) // index 2
	based := func(c Command, idx uint64) Command {
		return with(c, func(c *Command) { c.Reservation.BasedOn = idx })
	}
	r.must(by("n1", based(reserveCmd("t1", "s1", "a:0"), 2))) // index 3: t1's spend
	if _, err := r.apply(by("n3", based(reserveCmd("t2", "s2", "b:0"), 2))); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/a reservation decided before another spend: %v", err)
	}
	r.must(by("n3", based(reserveCmd("t2", "s2", "b:0"), 3))) // index 5: t2's spend
	if _, err := r.apply(by("n2", based(reserveCmd("t1", "s1", "a:0"), 3))); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/joining a reservation decided before another spend: %v", err)
	}
	r.must(by("n2", based(reserveCmd("t1", "s1", "a:0"), 5)))
	if _, err := r.apply(by("n2", based(reserveCmd("t2", "s2", "b:0"), r.idx+5))); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fail/a reservation decided at a future index: %v", err)
	}
}

// TestReplicatedReplay: an entry's (node, sequence) applies once; a
// refused entry consumes it too; one older than the window is refused.
func TestReplicatedReplay(t *testing.T) {
	s := openFast(t)
	if _, _, err := s.ApplyIndexed(1, Origin{"n1", 10}, submit("t1", StateReady)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ApplyIndexed(2, Origin{"n1", 10}, submit("t2", StateReady)); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/a replayed sequence: %v", err)
	}
	if _, err := s.Transfer("t2"); !errors.Is(err, ErrTransferNotFound) {
		t.Fatal("a replayed entry was applied")
	}
	// refused (not submitted yet), then replayed once t3 exists
	if _, _, err := s.ApplyIndexed(3, Origin{"n1", 11}, setStateCmd("t3", StateDenied)); !errors.Is(err, ErrRefused) {
		t.Fatal(err)
	}
	_, _, _ = s.ApplyIndexed(4, Origin{"n1", 12}, submit("t3", StateReady))
	if _, _, err := s.ApplyIndexed(5, Origin{"n1", 11}, setStateCmd("t3", StateDenied)); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/a refused entry replayed later: %v", err)
	}
	for i := range uint64(originWindow) {
		_, _, _ = s.ApplyIndexed(6+i, Origin{"n1", 100 + i}, setStateCmd("t3", StateReady))
	}
	if _, _, err := s.ApplyIndexed(1000, Origin{"n1", 13}, setStateCmd("t3", StateDenied)); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/an entry older than the window: %v", err)
	}
	n2 := with(submit("t9", StateReady), func(c *Command) { c.Node = "n2"; c.Submit.Home = "n2" })
	if _, _, err := s.ApplyIndexed(1001, Origin{"n2", 13}, n2); err != nil {
		t.Fatalf("ok/each node has its own sequence numbers: %v", err)
	}
	if _, _, err := s.ApplyIndexed(1002, Origin{"n1", 5000}, submit("t10", StateReady)); err != nil {
		t.Fatalf("ok/a fresh sequence: %v", err)
	}
}

type fakePolicies struct{ accepted []string }

func (f *fakePolicies) AcceptPolicy(v PolicyVersion) error {
	if string(v.Document) != "good" {
		return errors.New("no quorum")
	}
	f.accepted = append(f.accepted, v.Hash)
	return nil
}

func TestReplicatedPoliciesAndKeys(t *testing.T) {
	r := newReplicated(t)
	pol := &fakePolicies{}
	r.s.SetPolicyVerifier(pol)
	policyCmd := func(doc, hash string) Command {
		return Command{Kind: CmdPolicy, At: at(5), Node: "n2", ID: "policy:" + hash,
			Policy: &PolicyVersion{Document: []byte(doc), Signatures: [][]byte{[]byte("s")}, Hash: hash}}
	}
	r.must(policyCmd("good", "h1"))
	if _, err := r.apply(policyCmd("bad", "h2")); !errors.Is(err, ErrRefused) {
		t.Fatalf("fail/a version the governance refuses: %v", err)
	}
	r.must(policyCmd("good", "h1")) // the same again: no change
	if vs, _ := r.s.Policies(); len(vs) != 1 || vs[0].Hash != "h1" || !vs[0].At.Equal(at(5)) || len(pol.accepted) != 1 {
		t.Fatalf("policies %+v accepted %v", vs, pol.accepted)
	}
	if _, err := r.s.Apply(policyCmd("good", "h3")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fail/a policy command on a local ledger: %v", err)
	}

	rec := KeyRecord{ID: "hot", PublicKey: make([]byte, 33), Threshold: 1, Generation: 0, CreatedAt: at(1),
		Committee: []Member{{Node: "n1"}, {Node: "n2"}, {Node: "n3"}}, SealedShare: []byte("sealed by n1")}
	keyCmd := func(node string, rec KeyRecord) Command {
		return Command{Kind: CmdKey, At: at(6), Node: node, ID: "key:" + rec.ID, Key: &rec}
	}
	r.must(keyCmd("n1", rec))
	outsider := rec
	outsider.Committee = []Member{{Node: "n2"}, {Node: "n3"}}
	if _, err := r.apply(keyCmd("n1", outsider)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fail/a record of a committee the proposer is not in: %v", err)
	}
	next := rec
	next.Generation, next.SealedShare = 1, []byte("gen 1 sealed by n1")
	r.must(keyCmd("n1", next))
	if _, err := r.apply(keyCmd("n1", rec)); !errors.Is(err, ErrConflict) {
		t.Fatalf("fail/an older generation after a newer: %v", err)
	}
	if got, _ := r.s.ReplicatedKeys("n1"); len(got) != 1 || got[0].Generation != 1 {
		t.Fatalf("replicated keys of n1: %+v", got)
	}
	if got, _ := r.s.ReplicatedKeys("n2"); len(got) != 0 {
		t.Fatalf("n2 has records it never proposed: %+v", got)
	}
	if n, err := r.s.RecoverKeys("n1"); err != nil || n != 1 {
		t.Fatalf("recover: %d %v", n, err)
	}
	if k, err := r.s.Key("hot"); err != nil || k.Generation != 1 || string(k.SealedShare) != "gen 1 sealed by n1" {
		t.Fatalf("recovered key: %+v %v", k, err)
	}
	if n, _ := r.s.RecoverKeys("n1"); n != 0 {
		t.Fatal("recover wrote a record the registry already has")
	}
}
