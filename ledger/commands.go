package ledger

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CommandKind names what a command does to a transfer.
type CommandKind string

// Command kinds.
const (
	CmdSubmit   CommandKind = "submit"    // store a new transfer (Submit)
	CmdApprove  CommandKind = "approve"   // record an officer verdict (ID, Approval)
	CmdSetState CommandKind = "set_state" // move along the transition table (ID, State, Reason, Rule, NotBefore)
	CmdReserve  CommandKind = "reserve"   // take outpoints/nonce and the spend for a session (ID, Reservation)
	CmdRelease  CommandKind = "release"   // a session failed: free them (ID, Reservation.Session, Reason)
	CmdComplete CommandKind = "complete"  // a session signed: store the result (ID, Result)
	// Replicated ledgers only (ApplyIndexed):
	CmdPolicy CommandKind = "policy" // a policy version the governance accepts (ID "policy:<hash>", Policy)
	CmdKey    CommandKind = "key"    // the proposer's key record with its sealed share (ID "key:<key ID>", Key)
)

// Command is one change to transfer state. Every change is a command, and
// Store.Apply is the only writer of transfer state, so that the command log
// can be replicated and replayed.
type Command struct {
	Kind        CommandKind    `json:"kind"`
	At          time.Time      `json:"at"`   // time decided by the proposer; Apply never reads a clock
	Node        string         `json:"node"` // proposer (for the log)
	Submit      *Transfer      `json:"submit,omitempty"`
	ID          string         `json:"id,omitempty"`
	Approval    *Approval      `json:"approval,omitempty"`
	State       TransferState  `json:"state,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Rule        string         `json:"rule,omitempty"`
	NotBefore   time.Time      `json:"not_before,omitzero"`
	Reservation *Reservation   `json:"reservation,omitempty"`
	Result      *Result        `json:"result,omitempty"`
	Policy      *PolicyVersion `json:"policy,omitempty"`
	Key         *KeyRecord     `json:"key,omitempty"`
}

// Apply validates cmd against the transfer it names, changes that
// transfer, appends cmd to the command log and fsyncs, all in one bbolt
// transaction: it either happens entirely or not at all. It returns the
// transfer after the change. A command that would change nothing (a repeated
// submit, verdict, set_state, reservation or completion) returns the stored transfer
// and appends nothing.
//
// Apply is deterministic: it reads no clock and no randomness, only cmd and
// the store, so the same command sequence gives byte-identical state.
func (s *Store) Apply(cmd Command) (Transfer, error) {
	cmd = cmd.normalized()
	if err := cmd.check(); err != nil {
		return Transfer{}, fmt.Errorf("apply %s to transfer %q: %w", cmd.Kind, cmd.ID, err)
	}
	var r applied
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		r, err = applyTx(tx, cmd, nil)
		return err
	})
	if err != nil {
		return Transfer{}, fmt.Errorf("apply %s to transfer %q: %w", cmd.Kind, cmd.ID, err)
	}
	s.tell(r.deltas, 0)
	s.logApplied(cmd, r)
	return r.out, nil
}

// applied is what one command did inside a transaction.
type applied struct {
	out     Transfer
	seq     uint64
	changed bool
	deltas  []spendDelta
}

// applyTx applies a checked, normalized command inside tx. An error leaves
// tx to be rolled back by the caller.
func applyTx(tx *bolt.Tx, cmd Command, repl *replCtx) (applied, error) {
	l, err := openLedgerTx(tx)
	if err != nil {
		return applied{}, err
	}
	l.repl = repl
	if err := l.authorize(cmd); err != nil {
		return applied{}, err
	}
	var (
		t Transfer
		r applied
	)
	switch cmd.Kind {
	case CmdSubmit:
		t, r.changed, err = l.submit(cmd)
	case CmdApprove:
		t, r.changed, err = l.approve(cmd)
	case CmdSetState:
		t, r.changed, err = l.setState(cmd)
	case CmdReserve:
		t, r.changed, err = l.reserve(cmd)
	case CmdRelease:
		t, r.changed, err = l.release(cmd)
	case CmdComplete:
		t, r.changed, err = l.complete(cmd)
	case CmdPolicy, CmdKey:
		if repl == nil {
			return applied{}, invalid("a %s command is for replicated ledgers only", cmd.Kind)
		}
		if cmd.Kind == CmdPolicy {
			r.changed, err = l.acceptPolicy(cmd)
		} else {
			r.changed, err = l.putKeyShare(cmd)
		}
		if err != nil {
			return applied{}, err
		}
		if r.changed {
			r.seq, err = l.appendCommand(cmd)
		}
		return r, err
	}
	if err != nil {
		return applied{}, err
	}
	if r.changed {
		if err := l.putTransfer(t); err != nil {
			return applied{}, err
		}
		if r.seq, err = l.appendCommand(cmd); err != nil {
			return applied{}, err
		}
	}
	r.out, err = l.mustTransfer(cmd.ID)
	r.deltas = l.deltas
	return r, err
}

func (s *Store) logApplied(cmd Command, r applied) {
	if r.changed {
		s.notify()
		s.log.Debug("transfer command applied", "seq", r.seq, "kind", string(cmd.Kind), "transfer", r.out.ID,
			"state", string(r.out.State), "proposer", cmd.Node)
	}
}

// normalized returns a copy of c with every time in UTC (no monotonic
// reading, no zone) and omitted times defaulted to c.At, so that the logged
// command says exactly what was applied. It never changes the caller's
// values.
func (c Command) normalized() Command {
	c.At = c.At.UTC()
	c.NotBefore = c.NotBefore.UTC()
	or := func(t time.Time) time.Time {
		if t.IsZero() {
			return c.At
		}
		return t.UTC()
	}
	if c.Submit != nil {
		t := *c.Submit
		t.SubmittedAt, t.ExpiresAt, t.NotBefore = or(t.SubmittedAt), t.ExpiresAt.UTC(), t.NotBefore.UTC()
		t.UpdatedAt = time.Time{}
		c.Submit = &t
		if c.ID == "" {
			c.ID = t.ID
		}
	}
	if c.Approval != nil {
		a := *c.Approval
		a.At = or(a.At)
		c.Approval = &a
	}
	if c.Reservation != nil {
		r := *c.Reservation
		r.At = or(r.At)
		if r.Spend.At.IsZero() {
			r.Spend.At = r.At
		}
		r.Spend.At = r.Spend.At.UTC()
		c.Reservation = &r
	}
	if c.Result != nil {
		r := *c.Result
		r.At = or(r.At)
		c.Result = &r
	}
	return c
}
