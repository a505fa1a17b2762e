package ledger

import (
	"fmt"
	"regexp"
	"time"
)

// TransferState is where a transfer is in its life (DESIGN.md §5):
// pending_approval → timelocked → ready → signing → signed | denied |
// failed | expired.
type TransferState string

// Transfer states.
const (
	StatePendingApproval TransferState = "pending_approval"
	StateTimelocked      TransferState = "timelocked"
	StateReady           TransferState = "ready"
	StateSigning         TransferState = "signing"
	StateSigned          TransferState = "signed"
	StateDenied          TransferState = "denied"
	StateFailed          TransferState = "failed" // a session failed; retryable
	StateExpired         TransferState = "expired"
)

// Final reports whether no command may change a transfer in state s any
// more: signed, denied and expired.
func (s TransferState) Final() bool {
	return s == StateSigned || s == StateDenied || s == StateExpired
}

// Known reports whether s is one of the eight states.
func (s TransferState) Known() bool {
	switch s {
	case StatePendingApproval, StateTimelocked, StateReady, StateSigning,
		StateSigned, StateDenied, StateFailed, StateExpired:
		return true
	}
	return false
}

// Transfer is one transfer request as the ledger holds it.
type Transfer struct {
	ID            string        `json:"id"`
	Digest        []byte        `json:"digest"`         // 32-byte request digest
	Home          string        `json:"home"`           // node that took the submission and drives signing
	Initiator     string        `json:"initiator"`      // client identity that submitted it
	InitiatorRole string        `json:"initiator_role"` // its role
	Source        string        `json:"source"`         // source wallet ID
	Chain         string        `json:"chain"`          // "btc" | "eth"
	Asset         string        `json:"asset"`
	Amount        string        `json:"amount"` // decimal base units
	To            string        `json:"to"`     // destination address
	Intent        []byte        `json:"intent"` // canonical intent bytes as submitted
	PolicyHash    string        `json:"policy_hash"`
	SubmittedAt   time.Time     `json:"submitted_at"`
	ExpiresAt     time.Time     `json:"expires_at"`
	State         TransferState `json:"state"`
	Reason        string        `json:"reason,omitempty"` // last decision or failure, human readable
	Rule          string        `json:"rule,omitempty"`
	NotBefore     time.Time     `json:"not_before,omitzero"`
	Approvals     []Approval    `json:"approvals,omitempty"`
	Reservation   *Reservation  `json:"reservation,omitempty"` // live (signing) or consumed (signed) reservation
	Result        *Result       `json:"result,omitempty"`
	Attempts      int           `json:"attempts"` // reservations taken so far
	UpdatedAt     time.Time     `json:"updated_at"`
}

// Verdicts an officer can give.
const (
	VerdictApprove = "approve"
	VerdictReject  = "reject"
)

// Approval is one officer's signed verdict over the request digest.
type Approval struct {
	Officer   string    `json:"officer"`
	Verdict   string    `json:"verdict"` // "approve" | "reject"
	Signature []byte    `json:"signature"`
	At        time.Time `json:"at"`
	// SignedAt is when the officer signed, under the signature (zero in
	// approvals logged before it was signed: the legacy message).
	SignedAt time.Time `json:"signed_at,omitzero"`
}

// MaxApprovalSkew bounds how far an approval's signing time may lie from
// the time its proposer logged it: an approval cannot be held back and
// logged later, nor signed for a later time.
const MaxApprovalSkew = 10 * time.Minute

// Reservation pins what one signing session spends: the UTXOs or the
// account nonce, and the amount that counts against policy limits.
type Reservation struct {
	Session   []byte    `json:"session"`
	At        time.Time `json:"at"`
	Outpoints []string  `json:"outpoints,omitempty"` // "txid:vout" (btc)
	// Inputs are the amount and script the intent states for each
	// outpoint, in the same order (btc); the ledger pins them (inputs.go).
	Inputs   []Input `json:"inputs,omitempty"`
	NonceKey string  `json:"nonce_key,omitempty"` // "chain/address#nonce" (eth) or ""
	Spend    Spend   `json:"spend"`
	// Holders are the nodes that reserved it for the session, sorted. It
	// stays reserved (and its spend counts) while any holder keeps it; a
	// node releases only its own hold. Empty in records written before
	// holders existed.
	Holders []string `json:"holders,omitempty"`
	// BasedOn is the log index the proposer evaluated the policy at
	// (replicated ledgers): the reservation is refused when another
	// transfer's spend changed after it, so limits stay exact.
	BasedOn uint64 `json:"based_on,omitempty"`
	// Resumes, in a reserve command, names the live reservation's session
	// the proposer takes over: that session went silent (its coordinator
	// or a signer died mid-session) and a new one signs the same
	// transaction. The spend keeps counting and the inputs or nonce stay
	// pinned throughout; the ledger never stores it.
	Resumes []byte `json:"resumes,omitempty"`
	// Superseded are the sessions taken over, with their holders: one of
	// them may still have produced a signature (over the same transaction
	// bytes), and its result still completes the transfer.
	Superseded []Superseded `json:"superseded,omitempty"`
	// Silent is set when every holder of a resumed session released it:
	// the reservation stands (a superseded session may have signed) until
	// a resumption takes it over.
	Silent bool `json:"silent,omitempty"`
	// PossiblySigned, in a release command, says the releasing holder had
	// sent its share of the last signing round: whoever gathered the
	// shares may hold a signature, withheld. On the reservation it says a
	// holder of this or an earlier session said so. Such a reservation is
	// never freed: its spend counts in every window and its inputs or
	// nonce stay pinned for good; only the same transaction bytes are ever
	// signed for it again.
	PossiblySigned bool `json:"possibly_signed,omitempty"`
}

// Superseded is a session taken over by a resumption.
type Superseded struct {
	Session []byte   `json:"session"`
	Holders []string `json:"holders,omitempty"`
	// Failed is set when every holder had released the session before it
	// was taken over: each said it failed, so it has no signature.
	Failed bool `json:"failed,omitempty"`
}

// MaxResumptions bounds how often one transfer's session is taken over.
const MaxResumptions = 16

// Spend is what a reserved or signed transfer counts against sliding-window
// limits. Fee is its maximum fee in native base units of the source's chain
// (decimal; empty in spends recorded before fees counted).
type Spend struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	To     string    `json:"to"`
	Rule   string    `json:"rule"`
	Asset  string    `json:"asset"`
	Amount string    `json:"amount"`
	Fee    string    `json:"fee,omitempty"`
}

// Result is the signed transaction a session produced.
type Result struct {
	Session  []byte    `json:"session"`
	SignedTx []byte    `json:"signed_tx"`
	TxHash   string    `json:"tx_hash"`
	At       time.Time `json:"at"`
}

// Field bounds. They keep one record small enough for one bbolt page run
// and one raft log entry.
const (
	maxApprovals = 64
	maxIntent    = 1 << 20
	maxSignedTx  = 1 << 20
	maxSignature = 1024
	maxSession   = 64
	maxOutpoints = 1000
	maxText      = 4096 // reasons
	maxName      = 256  // wallet IDs, addresses, assets, rules, nodes, officers, hashes
	maxAmount    = 78   // digits of 2^256
)

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	amountPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
)

// initialStates are the states a proposer may submit a transfer in.
var initialStates = map[TransferState]bool{
	StatePendingApproval: true, StateTimelocked: true, StateReady: true, StateDenied: true,
}

// validateNew checks a submitted transfer's shape.
func validateNew(t *Transfer) error {
	switch {
	case !idPattern.MatchString(t.ID):
		return invalid("id %q must match %s", t.ID, idPattern)
	case len(t.Digest) != 32:
		return invalid("digest must be 32 bytes, got %d", len(t.Digest))
	case t.Chain != "btc" && t.Chain != "eth":
		return invalid("chain %q must be btc or eth", t.Chain)
	case len(t.Intent) == 0 || len(t.Intent) > maxIntent:
		return invalid("intent must be 1 to %d bytes, got %d", maxIntent, len(t.Intent))
	case !amountPattern.MatchString(t.Amount) || len(t.Amount) > maxAmount:
		return invalid("amount %q must be a decimal in base units", t.Amount)
	case !initialStates[t.State]:
		return invalid("initial state %q must be pending_approval, timelocked, ready or denied", t.State)
	case t.State == StateTimelocked && t.NotBefore.IsZero():
		return invalid("a timelocked transfer needs not_before")
	case !representable(t.SubmittedAt):
		return invalid("submitted_at %s is out of range", t.SubmittedAt)
	case !t.ExpiresAt.After(t.SubmittedAt):
		return invalid("expires_at must be after submitted_at")
	case len(t.Approvals) != 0 || t.Reservation != nil || t.Result != nil || t.Attempts != 0:
		return invalid("a new transfer carries no approvals, reservation, result or attempts")
	case len(t.Reason) > maxText:
		return invalid("reason longer than %d bytes", maxText)
	}
	for _, f := range []struct{ name, v string }{
		{"home", t.Home}, {"initiator", t.Initiator}, {"source", t.Source},
		{"asset", t.Asset}, {"to", t.To},
	} {
		if f.v == "" || len(f.v) > maxName {
			return invalid("%s must be 1 to %d bytes", f.name, maxName)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"initiator_role", t.InitiatorRole}, {"policy_hash", t.PolicyHash}, {"rule", t.Rule},
	} {
		if len(f.v) > maxName {
			return invalid("%s longer than %d bytes", f.name, maxName)
		}
	}
	return nil
}

// representable reports whether t survives a round trip through Unix
// nanoseconds, which index keys use (years 1678 to 2262; not the zero time).
func representable(t time.Time) bool {
	return !t.IsZero() && t.Equal(time.Unix(0, t.UnixNano()))
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}
