package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/replica"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// Ledger is the node's store as the API reads it.
type Ledger interface {
	Changed() <-chan struct{}
	Transfer(id string) (ledger.Transfer, error)
	TransferPage(f ledger.PageFilter) (ledger.Page, error)
	Key(id string) (ledger.KeyRecord, error)
	Keys() ([]ledger.KeyRecord, error)
	PreParamsCount() (int, error)
}

// Transfers is the transfer workflow.
type Transfers interface {
	// Submit checks and records a request homed on this node.
	Submit(ctx context.Context, in *transferpb.Intent, initiator, role string, at time.Time) (ledger.Transfer, error)
	// Decide records an officer's signed verdict.
	Decide(ctx context.Context, req *transferpb.DecideRequest, at time.Time) (ledger.Transfer, error)
	// Kick starts signing t if this node is its home and it is ready.
	Kick(t ledger.Transfer)
	// View is t as clients see it.
	View(t ledger.Transfer) *transferpb.Transfer
	// ListView is t as a row of a list (no transaction rebuilt for a
	// request that is final or signing).
	ListView(t ledger.Transfer) *transferpb.Transfer
	// Await waits (bounded) for a request this node has not applied yet.
	Await(ctx context.Context, id string) (ledger.Transfer, error)
}

// Progress reports a session's stage and rounds as it runs.
type Progress func(stage, node string, p *ctss.Progress)

// Sessions coordinates threshold sessions from this node.
type Sessions interface {
	Coordinate(ctx context.Context, spec *peerpb.SessionSpec, progress Progress) (map[string]*peerpb.RunResponse, error)
	Active() int
}

// Governance is the node's policy history.
type Governance interface {
	Submit(ctx context.Context, doc []byte, sigs [][]byte) error
	Info() *operatorpb.PolicyInfo
}

// Replication is the node's replica of the log.
type Replication interface {
	Status() replica.Status
	AddVoter(node, addr string) error
	RemoveServer(node string) error
}

// Kind classifies a node error for clients.
type Kind int

// Kinds of node errors.
const (
	KindInternal     Kind = iota // reported without detail
	KindInvalid                  // the caller's input: InvalidArgument
	KindConflict                 // a request ID reused: AlreadyExists
	KindNotFound                 // NotFound
	KindPrecondition             // not now, or not here: FailedPrecondition
	KindAborted                  // a session failed: Aborted, with who and why
	KindTaken                    // another client's request ID: AlreadyExists, saying nothing of it
	KindDamaged                  // this node's store is damaged: DataLoss, "node store damaged"
	KindUnavailable              // the replicated log did not take it now: Unavailable, with why; try again
)

// Deps are what the client API serves from. Every field is required
// except Replica (nil until replication starts).
type Deps struct {
	Node            string // this node's ID
	Members         map[string]string
	SelfTestSigning bool
	PreParamsTarget int
	Log             *slog.Logger
	Now             func() time.Time
	Ledger          Ledger
	Transfers       Transfers
	Sessions        Sessions
	Policy          Governance
	Replica         func() Replication
	Audit           *audit.Log
	Verifiers       func() (note.Verifiers, error)
	// Snapshot writes a consistent copy of the node's store to w.
	Snapshot func(w io.Writer) (int64, error)
	// Classify maps a node error to what a client is told.
	Classify func(error) Kind
	// Revoked refuses client certificates the operators revoked; it is
	// consulted on every call.
	Revoked Revocations
}

// Revocations is the node's client-certificate deny-list (tls.revoked).
type Revocations interface {
	// Check returns an error naming the certificate if it is revoked.
	Check(c *x509.Certificate) error
}

// KeySource presents the node's current TLS certificate for the client
// API: a software key its HSM identity endorsed (signer/tlskey), so a
// handshake never calls the HSM.
type KeySource interface {
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
}
