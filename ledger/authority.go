package ledger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ApprovalVerifier checks an officer's signature over a request digest
// against the officer's key in the policy version the transfer was
// submitted under. A replicated ledger refuses an approval it does not
// verify. Implementations must be deterministic: the same arguments give
// the same answer on every node.
type ApprovalVerifier interface {
	VerifyApproval(policyHash string, digest []byte, a Approval) error
}

// replCtx is what a command from the replicated log carries besides the
// command: its log index, the authenticated proposer and its sequence
// number, and the approval verifier.
type replCtx struct {
	index    uint64
	origin   Origin
	verifier ApprovalVerifier
	policies PolicyVerifier
}

// Origin is who proposed a log entry, authenticated by the caller (a
// signature by the node's HSM identity key), and the proposer's sequence
// number for the entry, unique per node.
type Origin struct {
	Node string
	Seq  uint64
}

// Buckets of the replicated log's bookkeeping (replicated).
var (
	// bucketSpendChanges: big-endian log index → ID of the transfer whose
	// spend was added or removed there; the last spendWindow indexes.
	bucketSpendChanges = []byte("spend_changes")
	// bucketOrigins: node → its most recent sequence numbers (JSON, sorted).
	bucketOrigins = []byte("origins")
)

const (
	// spendWindow: a reservation must have been decided within this many
	// log entries of being applied.
	spendWindow = 100000
	// originWindow: how many recent sequence numbers are kept per node; an
	// entry older than all of them is refused as a replay.
	originWindow = 256
)

// authorize checks, for a command from the replicated log, that its
// proposer may make it: only the home node submits and moves a transfer's
// state, only a verified officer signature is recorded, and a node
// reserves, releases and completes only as itself (reserve.go and
// complete.go check holds). Local commands are the node's own.
func (l *ledgerTx) authorize(cmd Command) error {
	if l.repl == nil {
		return nil
	}
	if cmd.Node != l.repl.origin.Node {
		return invalid("command names proposer %q, the entry was signed by %q", cmd.Node, l.repl.origin.Node)
	}
	switch cmd.Kind {
	case CmdSubmit:
		if cmd.Submit.Home != cmd.Node {
			return fmt.Errorf("%w: %s submits a transfer homed on %s", ErrConflict, cmd.Node, cmd.Submit.Home)
		}
	case CmdSetState:
		t, err := l.mustTransfer(cmd.ID)
		if err != nil {
			return err
		}
		if t.Home != cmd.Node {
			return fmt.Errorf("%w: only the home node %s moves transfer %s, not %s", ErrConflict, t.Home, t.ID, cmd.Node)
		}
	case CmdApprove:
		t, err := l.mustTransfer(cmd.ID)
		if err != nil {
			return err
		}
		if l.repl.verifier == nil {
			return fmt.Errorf("%w: no approval verifier", ErrConflict)
		}
		if err := l.repl.verifier.VerifyApproval(t.PolicyHash, t.Digest, *cmd.Approval); err != nil {
			return fmt.Errorf("%w: approval by %s does not verify: %v", ErrConflict, cmd.Approval.Officer, err)
		}
		if sa := cmd.Approval.SignedAt; !sa.IsZero() && (sa.Sub(cmd.At) > MaxApprovalSkew || cmd.At.Sub(sa) > MaxApprovalSkew) {
			return fmt.Errorf("%w: approval by %s signed at %s, logged at %s: more than %s apart", ErrConflict, cmd.Approval.Officer,
				sa.UTC().Format(time.RFC3339), cmd.At.UTC().Format(time.RFC3339), MaxApprovalSkew)
		}
	}
	return nil
}

// limitsUnchanged refuses a reservation decided at log index basedOn when
// another transfer's spend was added or removed since: the proposer must
// decide again on the state as it is now. Local ledgers and reservations
// that name no index are not checked.
func (l *ledgerTx) limitsUnchanged(id string, basedOn uint64) error {
	if l.repl == nil || basedOn == 0 {
		return nil
	}
	if basedOn >= l.repl.index {
		return invalid("reservation decided at index %d, applied at %d", basedOn, l.repl.index)
	}
	if l.repl.index-basedOn > spendWindow {
		return fmt.Errorf("%w: reservation decided %d entries ago: decide again", ErrConflict, l.repl.index-basedOn)
	}
	b := l.tx().Bucket(bucketSpendChanges)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, basedOn+1)); k != nil; k, v = c.Next() {
		if string(v) != id {
			return fmt.Errorf("%w: limits changed at index %d (transfer %s) after this reservation was decided at %d: decide again",
				ErrConflict, binary.BigEndian.Uint64(k), v, basedOn)
		}
	}
	return nil
}

// spendChanged records that transfer id's spend was added or removed at
// this log index, and forgets changes older than the window.
func (l *ledgerTx) spendChanged(id string) error {
	if l.repl == nil {
		return nil
	}
	b, err := l.tx().CreateBucketIfNotExists(bucketSpendChanges)
	if err != nil {
		return err
	}
	if err := b.Put(binary.BigEndian.AppendUint64(nil, l.repl.index), []byte(id)); err != nil {
		return err
	}
	if l.repl.index <= spendWindow {
		return nil
	}
	cutoff := binary.BigEndian.AppendUint64(nil, l.repl.index-spendWindow)
	c := b.Cursor()
	for k, _ := c.First(); k != nil && string(k) < string(cutoff); k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func (l *ledgerTx) tx() *bolt.Tx { return l.transfers.Tx() }

// takeOrigin refuses an entry whose (node, sequence) was seen before or is
// older than the node's recent window, and records it otherwise.
func takeOrigin(tx *bolt.Tx, o Origin) error {
	if o.Node == "" || len(o.Node) > maxName || o.Seq == 0 {
		return invalid("entry origin needs a node and a sequence number")
	}
	b, err := tx.CreateBucketIfNotExists(bucketOrigins)
	if err != nil {
		return err
	}
	var recent []uint64
	if v := b.Get([]byte(o.Node)); v != nil {
		if err := json.Unmarshal(v, &recent); err != nil {
			return fmt.Errorf("%w: origins of %s: %v", ErrCorrupt, o.Node, err)
		}
	}
	i, found := slices.BinarySearch(recent, o.Seq)
	switch {
	case found:
		return fmt.Errorf("%w: entry %d of %s was already applied (replay)", ErrConflict, o.Seq, o.Node)
	case len(recent) >= originWindow && i == 0:
		return fmt.Errorf("%w: entry %d of %s is older than its last %d (replay)", ErrConflict, o.Seq, o.Node, originWindow)
	}
	recent = slices.Insert(recent, i, o.Seq)
	if len(recent) > originWindow {
		recent = recent[len(recent)-originWindow:]
	}
	v, err := json.Marshal(recent)
	if err != nil {
		return err
	}
	return b.Put([]byte(o.Node), v)
}
