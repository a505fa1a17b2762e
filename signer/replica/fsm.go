package replica

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/cofferhq/coffer/ledger"
)

// Result is what the state machine made of one entry.
type Result struct {
	Index    uint64
	Kind     ledger.CommandKind // "" for a refused entry that did not decode, or a restore
	Proposer string
	ID       string // the command's ID
	Transfer ledger.Transfer
	Err      error // nil, a refusal (ledger.ErrRefused, ErrEntry, ErrUnauthenticated) or ErrBroken
}

// fsm is the ledger as raft's state machine.
type fsm struct {
	store   *ledger.Store
	cluster string
	self    string
	keys    map[string]ed25519.PublicKey
	log     *slog.Logger

	applied atomic.Uint64 // last index applied (or skipped as already applied)
	broken  atomic.Bool
	damaged atomic.Bool           // the store is damaged: nothing is applied until a restart
	cause   atomic.Pointer[error] // why broken: the store's last error

	mu       sync.Mutex
	waiting  map[uint64]chan Result // own sequence number → its proposer
	advanced chan struct{}          // closed and replaced when applied grows
	observe  func(Result)           // optional: every applied entry, in order
	stalled  func()                 // optional: while an entry waits to be applied again
	quit     <-chan struct{}        // closed when the replica closes
}

// Retries of an entry the store failed to apply: the first after
// retryFirst, doubling up to retryMax.
const (
	retryFirst = 250 * time.Millisecond
	retryMax   = 5 * time.Second
)

var _ raft.FSM = (*fsm)(nil)

func newFSM(store *ledger.Store, cluster, self string, keys map[string]ed25519.PublicKey, log *slog.Logger) (*fsm, error) {
	idx, err := store.AppliedIndex()
	if err != nil {
		return nil, err
	}
	f := &fsm{store: store, cluster: cluster, self: self, keys: keys, log: log,
		waiting: map[uint64]chan Result{}, advanced: make(chan struct{})}
	f.applied.Store(idx)
	return f, nil
}

// brokenErr is ErrBroken with the store's error that caused it.
func (f *fsm) brokenErr() error {
	if c := f.cause.Load(); c != nil {
		return *c // wraps ErrBroken
	}
	return ErrBroken
}

// Apply implements raft.FSM. An entry the store fails to apply (a full
// disk, an I/O error: not a refusal every node makes) is applied again,
// after a growing pause, until it is or the replica closes: raft takes
// an entry as applied once Apply returns, so returning would skip it.
// Meanwhile the node is broken (it proposes and signs nothing) and falls
// behind; once the store takes writes again it catches up by itself.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	if f.damaged.Load() {
		// every later entry waits in raft's log for the restart, which
		// applies them again from the ledger's applied index
		return Result{Index: l.Index, Err: f.brokenErr()}
	}
	wait := retryFirst
	for {
		res := f.apply(l)
		if res.Err == nil || !errors.Is(res.Err, ErrBroken) {
			if f.broken.Swap(false) {
				f.log.Info("the store takes writes again: applying the log resumes", "index", l.Index)
			}
			f.advance(l.Index)
			return res
		}
		f.cause.Store(&res.Err)
		if errors.Is(res.Err, ledger.ErrCorrupt) {
			// damage, not a passing failure: applying again cannot help
			f.broken.Store(true)
			f.damaged.Store(true)
			f.log.Error("node store damaged while applying the log: this node stops proposing and signing; restore it (README, \"Restoring a node\")",
				"index", l.Index, "err", res.Err)
			return res
		}
		if !f.broken.Swap(true) {
			f.log.Error("store failed while applying the log: this node proposes and signs nothing until it applies again (retried)",
				"index", l.Index, "err", res.Err)
		}
		f.mu.Lock()
		stalled := f.stalled
		f.mu.Unlock()
		if stalled != nil {
			stalled()
		}
		select {
		case <-f.quit:
			return res
		case <-time.After(wait):
		}
		// applying again is safe: the store took nothing of the failed
		// attempt (one transaction), and a policy version it took into the
		// node's history is then the head, which AcceptPolicy takes again
		// as it is (submitToHistory)
		wait = min(2*wait, retryMax)
	}
}

func (f *fsm) apply(l *raft.Log) Result {
	e, cmd, err := decodeEntry(l.Data, f.cluster, f.keys)
	if err != nil {
		// the same refusal on every node: the entry is consumed, nothing changes
		f.log.Warn("log entry refused", "index", l.Index, "proposer", e.Node, "err", err)
		if merr := f.store.MarkApplied(l.Index); merr != nil {
			return Result{Index: l.Index, Err: fmt.Errorf("%w: %w", ErrBroken, merr)}
		}
		return f.deliver(e, Result{Index: l.Index, Err: err})
	}
	t, skipped, err := f.store.ApplyIndexed(l.Index, ledger.Origin{Node: e.Node, Seq: e.Seq}, cmd)
	switch {
	case skipped:
		return Result{Index: l.Index}
	case err != nil && !errors.Is(err, ledger.ErrRefused):
		return Result{Index: l.Index, Err: fmt.Errorf("%w: %w", ErrBroken, err)}
	case err != nil:
		f.log.Warn("log entry refused", "index", l.Index, "proposer", e.Node, "kind", string(cmd.Kind), "id", cmd.ID, "err", err)
	}
	id := cmd.ID
	if id == "" && cmd.Submit != nil {
		id = cmd.Submit.ID
	}
	return f.deliver(e, Result{Index: l.Index, Kind: cmd.Kind, Proposer: e.Node, ID: id, Transfer: t, Err: err})
}

// deliver hands the result of one of this node's own entries to the
// proposer waiting for it, and to the observer.
func (f *fsm) deliver(e Entry, r Result) Result {
	f.mu.Lock()
	obs := f.observe
	if e.Node == f.self {
		if ch, ok := f.waiting[e.Seq]; ok {
			ch <- r
			delete(f.waiting, e.Seq)
		}
	}
	f.mu.Unlock()
	if obs != nil {
		obs(r)
	}
	return r
}

func (f *fsm) advance(index uint64) {
	if index <= f.applied.Load() {
		return
	}
	f.applied.Store(index)
	f.mu.Lock()
	close(f.advanced)
	f.advanced = make(chan struct{})
	f.mu.Unlock()
}

// await registers a proposer for its own entry seq.
func (f *fsm) await(seq uint64) chan Result {
	ch := make(chan Result, 1)
	f.mu.Lock()
	f.waiting[seq] = ch
	f.mu.Unlock()
	return ch
}

func (f *fsm) forget(seq uint64) {
	f.mu.Lock()
	delete(f.waiting, seq)
	f.mu.Unlock()
}

// Snapshot implements raft.FSM: a consistent read of the replicated
// buckets, written by Persist while Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.store.Snapshot()
	if err != nil {
		return nil, err
	}
	return &snapshot{sn: sn}, nil
}

// Restore implements raft.FSM: the replicated buckets are replaced by the
// snapshot's, in one transaction.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	idx, err := f.store.Restore(rc)
	if err != nil {
		return err
	}
	f.applied.Store(0)
	f.advance(idx)
	f.mu.Lock()
	obs := f.observe
	f.mu.Unlock()
	if obs != nil {
		obs(Result{Index: idx})
	}
	return nil
}

type snapshot struct{ sn *ledger.Snapshot }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.sn.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) Release() { _ = s.sn.Close() }
