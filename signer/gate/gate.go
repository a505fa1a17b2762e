package gate

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// Proposer puts a command in the replicated log and returns the transfer
// as this node applied it.
type Proposer func(ctx context.Context, cmd ledger.Command) (ledger.Transfer, error)

// Config is what a gate needs.
type Config struct {
	Store *ledger.Store
	Log   *slog.Logger
	Now   func() time.Time
	// Propose reserves through the replicated log (nil: reservations
	// cannot be made, as in a node that only builds and decides).
	Propose Proposer
	// SessionTimeout is the nodes' session deadline: a reservation whose
	// session ran longer than it and a grace is taken as dead.
	SessionTimeout time.Duration
}

// Gate builds transfers from intents, decides them on this node's state
// and clock, and reserves what an allowed one spends (DESIGN.md §5 step
// 5). It keeps the limit totals as the ledger applies reservations. It is
// safe for concurrent use; decisions that reserve are serialized.
type Gate struct {
	store          *ledger.Store
	spends         *spendBook
	now            func() time.Time
	log            *slog.Logger
	propose        Proposer
	sessionTimeout time.Duration
	mu             sync.Mutex // serializes evaluate-and-reserve
}

// New returns a gate over cfg.Store and starts following its spends.
func New(cfg Config) (*Gate, error) {
	if cfg.Store == nil || cfg.Log == nil || cfg.Now == nil {
		return nil, errors.New("new gate: store, logger and clock are required")
	}
	g := &Gate{store: cfg.Store, now: cfg.Now, log: cfg.Log.With("component", "gate"), propose: cfg.Propose, sessionTimeout: cfg.SessionTimeout}
	g.spends = newSpendBook(cfg.Store, cfg.Now, cfg.Log)
	if err := g.spends.cover(0); err != nil {
		return nil, err
	}
	return g, nil
}

// SetProposer sets how the gate reserves (the replica starts after it).
func (g *Gate) SetProposer(p Proposer) { g.propose = p }
