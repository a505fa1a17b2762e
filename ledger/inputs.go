package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// bucketInputs: outpoint ("txid:vout") → pinnedInput (JSON): the amount
// and script the first reservation of the outpoint stated, for good.
// Replicated.
var bucketInputs = []byte("input_amounts")

// Input is what an intent states about one UTXO it spends. A signature
// over a segwit input commits to the amount stated, not to the amount the
// chain holds: two intents over the same outpoints, each understating a
// different input, build byte-identical transactions whose signatures
// splice into one that pays the difference as fee. So the first amount
// and script stated for an outpoint are pinned, and every later intent
// must state the same.
type Input struct {
	Outpoint string `json:"outpoint"`
	Amount   int64  `json:"amount"` // satoshi
	Script   []byte `json:"script"`
}

type pinnedInput struct {
	Amount int64  `json:"amount"`
	Script []byte `json:"script"`
	By     string `json:"by"` // the transfer that first stated it
}

// maxScript bounds an input's script (a P2WPKH script is 22 bytes).
const maxScript = 10_000

// checkInputs validates a reservation's inputs: one per outpoint, in the
// same order, with a positive amount and a script.
func (r *Reservation) checkInputs() error {
	if len(r.Inputs) == 0 {
		return nil // a reservation from before inputs were pinned, or eth
	}
	if len(r.Inputs) != len(r.Outpoints) {
		return invalid("%d inputs for %d outpoints", len(r.Inputs), len(r.Outpoints))
	}
	for i, in := range r.Inputs {
		switch {
		case in.Outpoint != r.Outpoints[i]:
			return invalid("input %d is %q, outpoint %d is %q", i, in.Outpoint, i, r.Outpoints[i])
		case in.Amount <= 0:
			return invalid("input %s states %d sat", in.Outpoint, in.Amount)
		case len(in.Script) == 0 || len(in.Script) > maxScript:
			return invalid("input %s: script of %d bytes", in.Outpoint, len(in.Script))
		}
	}
	return nil
}

// CheckPinned returns an ErrConflict naming both statements when an input
// of ins states another amount or script than the ledger pinned for its
// outpoint: a request can be refused at submission, on any node, before
// a reservation is tried.
func (s *Store) CheckPinned(ins []Input) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInputs)
		if b == nil {
			return nil
		}
		for _, in := range ins {
			if err := checkPin(b.Get([]byte(in.Outpoint)), in); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkPin compares in with the pinned value v (nil: not pinned).
func checkPin(v []byte, in Input) error {
	if v == nil {
		return nil
	}
	var p pinnedInput
	if err := json.Unmarshal(v, &p); err != nil {
		return fmt.Errorf("%w: pinned input %s: %v", ErrCorrupt, in.Outpoint, err)
	}
	if p.Amount != in.Amount || !bytes.Equal(p.Script, in.Script) {
		return fmt.Errorf("%w: %s was stated as %d sat (script %x) by request %s; this request states %d sat (script %x)",
			ErrConflict, in.Outpoint, p.Amount, p.Script, p.By, in.Amount, in.Script)
	}
	return nil
}

// pinInputs refuses inputs that state another amount or script than the
// first reservation of their outpoint did, and pins the new ones.
func (l *ledgerTx) pinInputs(id string, ins []Input) error {
	for _, in := range ins {
		if v := l.inputs.Get([]byte(in.Outpoint)); v != nil {
			if err := checkPin(v, in); err != nil {
				return err
			}
			continue
		}
		v, err := json.Marshal(pinnedInput{Amount: in.Amount, Script: in.Script, By: id})
		if err != nil {
			return fmt.Errorf("encode pinned input: %w", err)
		}
		if err := l.inputs.Put([]byte(in.Outpoint), v); err != nil {
			return fmt.Errorf("pin input %s: %w", in.Outpoint, err)
		}
	}
	return nil
}

// sameInputs reports whether two reservations state the same inputs. One
// that states none (written before inputs were pinned) agrees with any:
// every holder pins its own inputs when it reserves or joins, so a
// reservation without them checks nothing away.
func sameInputs(a, b *Reservation) bool {
	if len(a.Inputs) == 0 || len(b.Inputs) == 0 {
		return true
	}
	return slices.EqualFunc(a.Inputs, b.Inputs, func(x, y Input) bool {
		return x.Outpoint == y.Outpoint && x.Amount == y.Amount && bytes.Equal(x.Script, y.Script)
	})
}
