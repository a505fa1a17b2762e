package workflow

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/gate"
)

// Auditor is the node's audit log as the workflow writes it.
type Auditor interface {
	// Append makes records durable; an error means they are not logged
	// and the caller refuses (fail closed).
	Append(ctx context.Context, recs []audit.Record) error
	// Log records an outcome that already happened, reporting a failure.
	Log(ctx context.Context, rec audit.Record)
}

// SessionFailure is what the workflow reads of a failed transfer session.
type SessionFailure interface {
	error
	// PrepareUnreachable names the nodes that could not be reached when
	// the session was prepared, and whether they are every node that
	// failed (none answered and refused).
	PrepareUnreachable() (nodes []string, all bool)
}

// Config is what a workflow needs. Every field is required.
type Config struct {
	Node           string // this node's ID
	Store          *ledger.Store
	Gate           *gate.Gate
	Log            *slog.Logger
	Now            func() time.Time
	SessionTimeout time.Duration
	// Policy is the policy in force at a time.
	Policy func(now time.Time) (*gate.PolicyView, error)
	// Propose puts a command in the replicated log.
	Propose gate.Proposer
	// Applied is the last log index this node applied.
	Applied func() uint64
	// Coordinate runs a transfer session from this node.
	Coordinate func(ctx context.Context, spec *peerpb.SessionSpec) error
	Audit      Auditor
}

// Workflow moves this node's home transfers along. It is safe for
// concurrent use.
type Workflow struct {
	self           string
	store          *ledger.Store
	gate           *gate.Gate
	log            *slog.Logger
	now            func() time.Time
	sessionTimeout time.Duration
	policy         func(time.Time) (*gate.PolicyView, error)
	propose        gate.Proposer
	applied        func() uint64
	coordinate     func(context.Context, *peerpb.SessionSpec) error
	audit          Auditor

	driving  sync.Map   // request ID → struct{}: one session at a time per request
	retryAt  sync.Map   // request ID → time.Time: no new session before
	submitMu sync.Mutex // serializes submissions (existence check, then write)
	wake     chan string
	wakeAll  chan struct{}
	due      *dueQueue
}

// New returns a workflow; Schedule runs it.
func New(c Config) (*Workflow, error) {
	if c.Node == "" || c.Store == nil || c.Gate == nil || c.Log == nil || c.Now == nil || c.Policy == nil ||
		c.Propose == nil || c.Applied == nil || c.Coordinate == nil || c.Audit == nil {
		return nil, errors.New("new workflow: every field of the config is required")
	}
	return &Workflow{self: c.Node, store: c.Store, gate: c.Gate, log: c.Log.With("component", "workflow"), now: c.Now,
		sessionTimeout: c.SessionTimeout, policy: c.Policy, propose: c.Propose, applied: c.Applied, coordinate: c.Coordinate,
		audit: c.Audit, wake: make(chan string, 1024), wakeAll: make(chan struct{}, 1), due: newDueQueue()}, nil
}

// Wake asks the workflow to look at a home transfer the log just changed
// (an approval recorded, a session failed). It never blocks: a wake lost
// to a full channel is made up by the request's next due time, at most
// maxWait away.
func (w *Workflow) Wake(id string) {
	select {
	case w.wake <- id:
	default:
	}
}
