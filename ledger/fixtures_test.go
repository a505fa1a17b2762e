package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTB opens a store in a temporary directory, closed at cleanup.
func openTB(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "node.db"), Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// newTransfer is a valid submission: btc unless the id starts with "e".
func newTransfer(id string, state TransferState) *Transfer {
	intent := []byte("intent:" + id)
	d := sha256.Sum256(intent)
	tr := &Transfer{ID: id, Digest: d[:], Home: "n1", Initiator: "withdrawals", InitiatorRole: "withdrawal",
		Source: "hot-btc", Chain: "btc", Asset: "BTC", Amount: "150000", To: "bcrt1qcold", Intent: intent,
		PolicyHash: "policy-1", SubmittedAt: at(0), ExpiresAt: at(86400), State: state, Rule: "sweep"}
	if strings.HasPrefix(id, "e") {
		tr.Source, tr.Chain, tr.Asset, tr.To = "hot-eth", "eth", "ETH", "0xcold"
	}
	if state == StateTimelocked {
		tr.NotBefore = at(3600)
	}
	return tr
}

func submitCmd(tr *Transfer) Command {
	return Command{Kind: CmdSubmit, At: tr.SubmittedAt, Node: "n1", Submit: tr}
}

func submit(id string, state TransferState) Command { return submitCmd(newTransfer(id, state)) }

func approveCmd(id, officer, verdict string) Command {
	return Command{Kind: CmdApprove, At: at(10), Node: "n1", ID: id,
		Approval: &Approval{Officer: officer, Verdict: verdict, Signature: []byte("sig:" + officer + ":" + verdict)}}
}

func setStateCmd(id string, st TransferState) Command {
	return Command{Kind: CmdSetState, At: at(20), Node: "n1", ID: id, State: st}
}

func spendOf(id string) Spend {
	tr := newTransfer(id, StateReady)
	return Spend{Source: tr.Source, To: tr.To, Rule: "sweep", Asset: tr.Asset, Amount: tr.Amount}
}

func reserveCmd(id, session string, outpoints ...string) Command {
	return Command{Kind: CmdReserve, At: at(30), Node: "n1", ID: id,
		Reservation: &Reservation{Session: []byte(session), Outpoints: outpoints, Spend: spendOf(id)}}
}

func reserveETHCmd(id, session, nonceKey string) Command {
	return Command{Kind: CmdReserve, At: at(30), Node: "n1", ID: id,
		Reservation: &Reservation{Session: []byte(session), NonceKey: nonceKey, Spend: spendOf(id)}}
}

func releaseCmd(id, session string) Command {
	return Command{Kind: CmdRelease, At: at(40), Node: "n1", ID: id, Reason: "session timed out: n3 silent",
		Reservation: &Reservation{Session: []byte(session)}}
}

func completeCmd(id, session, tx string) Command {
	return Command{Kind: CmdComplete, At: at(50), Node: "n1", ID: id,
		Result: &Result{Session: []byte(session), SignedTx: []byte(tx), TxHash: "hash-" + tx}}
}

// with returns c changed by f, leaving c's pointed-to values alone.
func with(c Command, f func(*Command)) Command {
	if c.Submit != nil {
		v := *c.Submit
		c.Submit = &v
	}
	if c.Approval != nil {
		v := *c.Approval
		c.Approval = &v
	}
	if c.Reservation != nil {
		v := *c.Reservation
		c.Reservation = &v
	}
	if c.Result != nil {
		v := *c.Result
		c.Result = &v
	}
	f(&c)
	return c
}

// dump is every bucket of the store (name, sequence, keys, values), in
// bbolt's order; two stores with equal dumps are byte-identical.
func dump(t testing.TB, s *Store, names ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	put := func(b []byte) {
		out.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		out.Write(b)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if len(names) > 0 && !containsName(names, name) {
				return nil
			}
			put(name)
			put(binary.BigEndian.AppendUint64(nil, b.Sequence()))
			return b.ForEach(func(k, v []byte) error { put(k); put(v); return nil })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func containsName(names [][]byte, name []byte) bool {
	for _, n := range names {
		if bytes.Equal(n, name) {
			return true
		}
	}
	return false
}

func commandCount(t *testing.T, s *Store) int {
	t.Helper()
	cmds, _, err := s.Commands(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(cmds)
}

// applyCase is one table row: setup commands that must succeed, then cmd.
// A fail/ row must return want and leave every bucket unchanged; a noop row
// must succeed and leave every bucket unchanged; any other ok/ row must
// append exactly cmd (normalized) to the log.
type applyCase struct {
	name  string
	setup []Command
	cmd   Command
	want  error
	noop  bool
	check func(t *testing.T, got Transfer, s *Store)
}

func runApply(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "fail/") != (tc.want != nil) {
				t.Fatalf("case name %q does not match want %v", tc.name, tc.want)
			}
			s := openTemp(t)
			for i, c := range tc.setup {
				if _, err := s.Apply(c); err != nil {
					t.Fatalf("setup %d (%s): %v", i, c.Kind, err)
				}
			}
			before, n := dump(t, s), commandCount(t, s)
			got, err := s.Apply(tc.cmd)
			after := dump(t, s)
			switch {
			case tc.want != nil:
				if !errors.Is(err, tc.want) {
					t.Fatalf("error = %v, want %v", err, tc.want)
				}
				if !bytes.Equal(before, after) {
					t.Fatal("a refused command changed the store")
				}
				return
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.noop && !bytes.Equal(before, after):
				t.Fatal("a no-op command changed the store")
			case !tc.noop:
				cmds, _, _ := s.Commands(uint64(n+1), 0)
				if len(cmds) != 1 || !reflect.DeepEqual(cmds[0], tc.cmd.normalized()) {
					t.Fatalf("log got %d commands %+v, want the applied one", len(cmds), cmds)
				}
			}
			stored, err := s.Transfer(got.ID)
			if err != nil || !reflect.DeepEqual(got, stored) {
				t.Fatalf("returned %+v, stored %+v (%v)", got, stored, err)
			}
			if tc.check != nil {
				tc.check(t, got, s)
			}
		})
	}
}
