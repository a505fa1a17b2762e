package replica

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cofferhq/coffer/ledger"
)

// MaxEntry bounds one log entry (a command holds at most a 1 MiB intent
// or a 1 MiB signed transaction, JSON-encoded).
const MaxEntry = 8 << 20

const entryTag = "coffer/raft-entry/v1\x00"

// Entry is one raft log entry: a ledger command, the node that proposed
// it, the node's sequence number for it, and the node's signature.
type Entry struct {
	Node    string          `json:"node"`
	Seq     uint64          `json:"seq"`
	Command json.RawMessage `json:"command"`
	Sig     []byte          `json:"sig"`
}

// signedBytes is what the proposer signs: every field but the signature,
// length-prefixed, under a domain tag and the cluster name.
func signedBytes(cluster string, e *Entry) []byte {
	var b []byte
	b = append(b, entryTag...)
	for _, f := range [][]byte{[]byte(cluster), []byte(e.Node), e.Command} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint64(b, e.Seq)
}

// newEntry encodes and signs cmd as node's entry seq.
func newEntry(id crypto.Signer, cluster, node string, seq uint64, cmd ledger.Command) ([]byte, error) {
	c, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	e := Entry{Node: node, Seq: seq, Command: c}
	if e.Sig, err = id.Sign(nil, signedBytes(cluster, &e), crypto.Hash(0)); err != nil {
		return nil, fmt.Errorf("sign log entry: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode log entry: %w", err)
	}
	if len(b) > MaxEntry {
		return nil, fmt.Errorf("%w: log entry of %d bytes", ErrEntry, len(b))
	}
	return b, nil
}

// decodeEntry parses and authenticates an entry: strict JSON, bounded, a
// member's valid signature. It returns the entry and its command.
func decodeEntry(b []byte, cluster string, keys map[string]ed25519.PublicKey) (Entry, ledger.Command, error) {
	var e Entry
	var cmd ledger.Command
	if len(b) > MaxEntry {
		return e, cmd, fmt.Errorf("%w: %d bytes", ErrEntry, len(b))
	}
	if err := strictJSON(b, &e); err != nil {
		return e, cmd, fmt.Errorf("%w: %v", ErrEntry, err)
	}
	key, ok := keys[e.Node]
	switch {
	case !ok:
		return e, cmd, fmt.Errorf("%w: %q is not a member", ErrUnauthenticated, e.Node)
	case len(e.Sig) != ed25519.SignatureSize || !ed25519.Verify(key, signedBytes(cluster, &e), e.Sig):
		return e, cmd, fmt.Errorf("%w: signature of %q does not verify", ErrUnauthenticated, e.Node)
	case e.Seq == 0:
		return e, cmd, fmt.Errorf("%w: sequence number 0", ErrEntry)
	}
	if err := strictJSON(e.Command, &cmd); err != nil {
		return e, cmd, fmt.Errorf("%w: command: %v", ErrEntry, err)
	}
	if cmd.Node != e.Node {
		return e, cmd, fmt.Errorf("%w: command names %q, signed by %q", ErrUnauthenticated, cmd.Node, e.Node)
	}
	return e, cmd, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// SignEntry encodes and signs cmd as node's log entry with sequence number
// seq, exactly as a node proposes it: for operator tools and for tests
// that play a compromised node, which can sign only as itself.
func SignEntry(id crypto.Signer, cluster, node string, seq uint64, cmd ledger.Command) ([]byte, error) {
	cmd.Node = node
	return newEntry(id, cluster, node, seq, cmd)
}
