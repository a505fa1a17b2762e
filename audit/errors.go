package audit

import (
	"errors"
	"fmt"
)

// Errors of the log (writing and reading a node's own log).
var (
	// ErrInvalid means a record failed validation before being appended.
	// Nothing was written.
	ErrInvalid = errors.New("audit: invalid record")
	// ErrClosed means the log was closed.
	ErrClosed = errors.New("audit: log closed")
	// ErrSign means the HSM identity key failed to sign (or returned a
	// signature that does not verify). The batch was not written.
	ErrSign = errors.New("audit: HSM signing failed")
	// ErrStore means the bbolt transaction failed. The batch was not
	// written.
	ErrStore = errors.New("audit: store failed")
	// ErrCorrupt means the stored log is inconsistent: its tail does not
	// match its latest signed checkpoint, a stored value is malformed, or
	// an earlier failure left the log unusable until it is reopened.
	ErrCorrupt = errors.New("audit: stored log is corrupt")
	// ErrIdentity means the log in the file belongs to another origin or
	// was signed by another key than the one given.
	ErrIdentity = errors.New("audit: log belongs to another node identity")
	// ErrRange means an index or tree size lies outside the log.
	ErrRange = errors.New("audit: index or size out of range")
	// ErrNotFound means no checkpoint of that size is stored.
	ErrNotFound = errors.New("audit: checkpoint not found")
	// ErrUnknownNode means a checkpoint's origin is not a configured peer
	// (cosigning) or a trusted node (verifying).
	ErrUnknownNode = errors.New("audit: unknown node")
	// ErrStale means a checkpoint to cosign is older than the last one this
	// node cosigned for that origin.
	ErrStale = errors.New("audit: checkpoint older than the last one seen")
)

// Errors of decoding untrusted bytes (records, checkpoints, bundles, trust
// files). They come wrapped with what was being decoded.
var (
	// ErrMalformed means bytes could not be decoded, or are not in
	// canonical form.
	ErrMalformed = errors.New("audit: malformed input")
	// ErrVersion means a record or bundle has an unsupported version.
	ErrVersion = errors.New("audit: unsupported version")
)

// Verification findings (Verify and Cosign). Each names what failed; a
// finding about one entry comes as an *EntryError, about one checkpoint as
// a *CheckpointError.
var (
	// ErrSignature means a checkpoint lacks a valid signature by its
	// node's trusted key, or carries an invalid one.
	ErrSignature = errors.New("audit: bad checkpoint signature")
	// ErrFork means two checkpoints of one node have the same size and
	// different roots: the node signed two histories.
	ErrFork = errors.New("audit: log fork (two roots for one size)")
	// ErrInconsistent means a later checkpoint is not an extension of an
	// earlier one (a consistency proof failed).
	ErrInconsistent = errors.New("audit: checkpoints are inconsistent")
	// ErrEntryChanged means entries do not hash to the root of a signed
	// checkpoint: one of them was changed, removed or replaced.
	ErrEntryChanged = errors.New("audit: entries do not match the signed checkpoint")
	// ErrEntryOrder means an entry's index field disagrees with its
	// position: entries were removed, inserted or reordered.
	ErrEntryOrder = errors.New("audit: entry out of place")
	// ErrTruncated means the log holds fewer entries than a signed
	// checkpoint covers.
	ErrTruncated = errors.New("audit: log truncated")
	// ErrUnsigned means entries lie beyond every signed checkpoint.
	ErrUnsigned = errors.New("audit: entries not covered by a signed checkpoint")
	// ErrUnbacked means a signature-produced entry lacks matching allow
	// decisions in t+1 nodes' logs (or its own decision came after it).
	ErrUnbacked = errors.New("audit: signature not backed by t+1 decisions")
	// ErrMissingNode means a trusted node has no bundle.
	ErrMissingNode = errors.New("audit: node's log missing from the bundles")
	// ErrDuplicateNode means two bundles are for the same node.
	ErrDuplicateNode = errors.New("audit: two bundles for one node")
	// ErrCosignatures means a node's latest checkpoint has fewer
	// cosignatures than the trust file requires.
	ErrCosignatures = errors.New("audit: too few cosignatures")
)

// EntryError names the first bad entry of a node's log. Index is the first
// entry that may be bad; Last is the last one (Last == Index when the
// entry is pinpointed; a signed checkpoint only tells that something in
// Index..Last changed).
type EntryError struct {
	Node   string // origin of the log
	Index  uint64
	Last   uint64
	Err    error // one of the sentinels above
	Detail string
}

func (e *EntryError) Error() string {
	where := fmt.Sprintf("entry %d", e.Index)
	if e.Last > e.Index {
		where = fmt.Sprintf("entries %d..%d", e.Index, e.Last)
	}
	if e.Detail == "" {
		return fmt.Sprintf("node %s: %s: %v", e.Node, where, e.Err)
	}
	return fmt.Sprintf("node %s: %s: %v: %s", e.Node, where, e.Err, e.Detail)
}

func (e *EntryError) Unwrap() error { return e.Err }

// CheckpointError names a bad checkpoint of a node: its size and where it
// came from (a bundle, another node's witnessed copies, --since).
type CheckpointError struct {
	Node   string
	Size   uint64
	Source string
	Err    error
	Detail string
}

func (e *CheckpointError) Error() string {
	s := fmt.Sprintf("node %s: checkpoint of size %d (from %s): %v", e.Node, e.Size, e.Source, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *CheckpointError) Unwrap() error { return e.Err }

// NodeError is a finding about a node as a whole (a missing or duplicate
// bundle, too few cosignatures).
type NodeError struct {
	Node   string
	Err    error
	Detail string
}

func (e *NodeError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("node %s: %v", e.Node, e.Err)
	}
	return fmt.Sprintf("node %s: %v: %s", e.Node, e.Err, e.Detail)
}

func (e *NodeError) Unwrap() error { return e.Err }
