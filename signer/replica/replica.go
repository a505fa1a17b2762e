package replica

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/connlimit"
	"github.com/cofferhq/coffer/signer/peer"
)

// Forwarder sends this node's signed entry to the leader, which appends it
// to the log (hashicorp/raft appends only on the leader).
type Forwarder interface {
	Forward(ctx context.Context, leader string, entry []byte) error
}

// Config is one node's replica.
type Config struct {
	Node    string
	Cluster string
	// Dir holds raft.db (the log and stable store) and snapshots/.
	Dir string
	// Bind is the raft listener address (127.0.0.1:port).
	Bind string
	// Voters are the initial voters (node → raft address), used to
	// bootstrap a cluster that has no raft state yet.
	Voters map[string]string
	// Keys are the members' identity keys: entries are verified against them.
	Keys map[string]ed25519.PublicKey
	// Credentials carry this node's raft TLS key (purpose raft, endorsed
	// by its HSM identity) and the CA; Limits bound each source on the
	// raft listener (zero fields: connlimit's defaults).
	Credentials peer.Credentials
	Limits      connlimit.Config
	Membership  peer.Membership
	Identity    crypto.Signer // this node's HSM identity key
	Store       *ledger.Store
	Forwarder   Forwarder
	// PeerLog asks the peers how long their log is, for a node that starts
	// without raft state (votegate.go). Nil: never asked.
	PeerLog PeerLog
	Log     *slog.Logger
	// Timing; zero means the defaults below.
	HeartbeatTimeout time.Duration
	CommitTimeout    time.Duration
	SnapshotEvery    uint64 // entries between snapshots
}

// Defaults tuned for nodes on one machine or one LAN. raft sends every
// follower an AppendEntries each CommitTimeout (to carry the commit
// index) whether or not anything happened; followers learn a commit at
// once instead from the barrier the leader appends after it (pushCommit),
// so the commit tick only matters to an idle cluster, where it is cost.
const (
	DefaultHeartbeatTimeout = 2 * time.Second
	DefaultCommitTimeout    = time.Second
	DefaultSnapshotEvery    = 4096
)

// Replica is this node's raft member.
type Replica struct {
	cfg   Config
	raft  *raft.Raft
	fsm   *fsm
	trans *raft.NetworkTransport
	layer *streamLayer
	logs  *logStore
	log   *slog.Logger

	seqMu sync.Mutex
	seq   uint64
	done  chan struct{}

	pushMu      sync.Mutex  // one barrier in flight
	pushPending atomic.Bool // a barrier is queued behind it
}

// New opens the raft state in cfg.Dir and joins the cluster; a node with
// no raft state bootstraps the initial voters (every node bootstraps the
// same configuration, which raft accepts).
func New(cfg Config) (*Replica, error) {
	switch {
	case cfg.Store == nil || cfg.Identity == nil || cfg.Log == nil || cfg.Forwarder == nil:
		return nil, errors.New("new replica: missing store, identity, forwarder or logger")
	case cfg.Node == "" || cfg.Cluster == "" || cfg.Dir == "" || cfg.Bind == "":
		return nil, errors.New("new replica: missing node, cluster, directory or bind address")
	case cfg.Voters[cfg.Node] == "":
		return nil, fmt.Errorf("new replica: %s is not among the voters", cfg.Node)
	}
	cfg.HeartbeatTimeout = or(cfg.HeartbeatTimeout, DefaultHeartbeatTimeout)
	cfg.CommitTimeout = or(cfg.CommitTimeout, DefaultCommitTimeout)
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = DefaultSnapshotEvery
	}
	log := cfg.Log.With("component", "replica")
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("new replica: %w", err)
	}
	f, err := newFSM(cfg.Store, cfg.Cluster, cfg.Node, cfg.Keys, log)
	if err != nil {
		return nil, fmt.Errorf("new replica: %w", err)
	}
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("new replica: open raft log: %w", err)
	}
	logs := &logStore{BoltStore: bolt}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hcLogger(log, "raft-snapshot"))
	if err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("new replica: open snapshots: %w", err)
	}
	if err := catchUpFromSnapshot(cfg.Store, snaps, f, log); err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("new replica: %w", err)
	}
	layer, err := newStreamLayer(cfg.Bind, cfg.Credentials, cfg.Membership, cfg.Voters, cfg.Limits.WithDefaults(), log)
	if err != nil {
		_ = logs.Close()
		return nil, fmt.Errorf("new replica: %w", err)
	}
	netTrans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 3, Timeout: 10 * time.Second, Logger: hcLogger(log, "raft-net"),
	})
	gate := &voteGate{}
	trans := newGatedTransport(netTrans, gate)
	// raft's applied index counts every entry (commands, no-ops,
	// configuration), so it reaches the peers' last index
	gate.applied = func() uint64 {
		if r := trans.r.Load(); r != nil {
			return r.AppliedIndex()
		}
		return 0
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.Node)
	rc.Logger = hcLogger(log, "raft")
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.HeartbeatTimeout
	rc.LeaderLeaseTimeout = cfg.HeartbeatTimeout / 2
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotEvery
	rc.TrailingLogs = cfg.SnapshotEvery
	// the ledger is persistent: it keeps its applied index and skips what
	// it already applied, so raft need not reload a snapshot at start
	rc.NoSnapshotRestoreOnStart = true
	has, err := raft.HasExistingState(logs, logs, snaps)
	if err != nil {
		_ = trans.Close()
		_ = logs.Close()
		return nil, fmt.Errorf("new replica: %w", err)
	}
	done := make(chan struct{})
	f.quit = done
	var rf atomic.Pointer[raft.Raft] // set below; Apply may run before
	f.stalled = func() {
		// a leader whose state machine cannot apply would keep its lease
		// and hold every proposal of the cluster: hand leadership over
		if r := rf.Load(); r != nil && r.State() == raft.Leader {
			go func() { _ = r.LeadershipTransfer().Error() }()
		}
	}
	var servers []raft.Server
	for node, addr := range cfg.Voters {
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(node), Address: raft.ServerAddress(addr)})
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	initial := raft.Configuration{Servers: servers}
	gated := !has && cfg.PeerLog != nil && len(cfg.Voters) > 1
	if !has && !gated {
		if err := raft.BootstrapCluster(rc, logs, logs, snaps, trans, initial); err != nil {
			_ = trans.Close()
			_ = logs.Close()
			return nil, fmt.Errorf("new replica: bootstrap: %w", err)
		}
		log.Info("raft bootstrapped", "voters", len(servers))
	}
	r, err := raft.NewRaft(rc, f, logs, logs, snaps, trans)
	if err != nil {
		_ = trans.Close()
		_ = logs.Close()
		return nil, fmt.Errorf("new replica: %w", err)
	}
	trans.r.Store(r)
	rf.Store(r)
	if gated {
		// No raft state here: a new cluster, or a node that lost its state.
		// It neither votes nor bootstraps (so it cannot campaign) until peers
		// tell it which: a new cluster bootstraps, a lost node waits to be
		// sent the log by the leader.
		need := len(cfg.Voters) - len(cfg.Voters)/2
		log.Info("no raft state here: this node waits for its peers before it votes or bootstraps", "peers_needed", need)
		gate.target.Store(^uint64(0))
		following := func() bool { return caughtUpWithLeader(r, cfg.Node) }
		bootstrap := func() {
			if err := r.BootstrapCluster(initial).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
				log.Error("bootstrap", "err", err)
				return
			}
			log.Info("raft bootstrapped", "voters", len(servers))
		}
		go gate.closedUntilPeersAnswer(cfg.PeerLog, need, following, bootstrap, done, log.Info)
	}
	rep := &Replica{cfg: cfg, raft: r, fsm: f, trans: netTrans, layer: layer, logs: logs, log: log, done: done}
	log.Info("replica started", "bind", cfg.Bind, "applied_index", f.applied.Load())
	return rep, nil
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Close leaves raft and closes its files; the ledger stays open.
func (r *Replica) Close() error {
	close(r.done)
	err := r.raft.Shutdown().Error()
	err = errors.Join(err, r.trans.Close(), r.logs.Close())
	return err
}

// Observe calls f with every entry's result in log order (and with the
// index of a restored snapshot). Set it before proposing.
func (r *Replica) Observe(f func(Result)) {
	r.fsm.mu.Lock()
	defer r.fsm.mu.Unlock()
	r.fsm.observe = f
}

// nextSeq is a sequence number above every one this node used, also across
// restarts and a wiped store: the clock in nanoseconds, or one more than
// the last.
func (r *Replica) nextSeq() uint64 {
	r.seqMu.Lock()
	defer r.seqMu.Unlock()
	r.seq = max(r.seq+1, uint64(time.Now().UnixNano()))
	return r.seq
}

// Propose signs cmd as this node's, appends it to the log (through the
// leader) and waits until this node's own state machine applied it. The
// result is this node's: a refusal is returned as an error wrapping
// ledger.ErrRefused. ErrTimeout means the outcome is unknown.
func (r *Replica) Propose(ctx context.Context, cmd ledger.Command) (Result, error) {
	if r.fsm.broken.Load() {
		return Result{}, r.fsm.brokenErr()
	}
	cmd.Node = r.cfg.Node
	seq := r.nextSeq()
	entry, err := newEntry(r.cfg.Identity, r.cfg.Cluster, r.cfg.Node, seq, cmd)
	if err != nil {
		return Result{}, err
	}
	done := r.fsm.await(seq)
	defer r.fsm.forget(seq)
	if err := r.append(ctx, entry); err != nil {
		return Result{}, err
	}
	select {
	case res := <-done:
		return res, res.Err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%w: %v%s", ErrTimeout, ctx.Err(), r.storeHint())
	}
}

// append hands the entry to raft on the leader, or to the leader.
func (r *Replica) append(ctx context.Context, entry []byte) error {
	for {
		addr, id := r.raft.LeaderWithID()
		switch {
		case id == raft.ServerID(r.cfg.Node):
			timeout := 10 * time.Second
			if dl, ok := ctx.Deadline(); ok {
				if timeout = time.Until(dl); timeout <= 0 { // raft waits for ever on 0
					return fmt.Errorf("%w: %v", ErrTimeout, context.DeadlineExceeded)
				}
			}
			err := r.wait(ctx, r.raft.Apply(entry, timeout))
			if err == nil {
				r.pushCommit()
				return nil
			}
			if !errors.Is(err, raft.ErrNotLeader) && !errors.Is(err, raft.ErrLeadershipLost) {
				return fmt.Errorf("append to the log: %w", err)
			}
		case addr != "":
			err := r.cfg.Forwarder.Forward(ctx, string(id), entry)
			if err == nil {
				return nil
			}
			r.log.Debug("forward to leader failed", "leader", id, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v%s", ErrNoLeader, ctx.Err(), r.storeHint())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// HandleForward appends an entry a member forwarded. Only the proposer's
// own entries are taken (from is the authenticated peer), and only on the
// leader; the state machine verifies the entry again on every node.
func (r *Replica) HandleForward(ctx context.Context, from string, entry []byte) error {
	e, _, err := decodeEntry(entry, r.cfg.Cluster, r.cfg.Keys)
	if err != nil {
		return err
	}
	if e.Node != from {
		return fmt.Errorf("%w: %s forwarded an entry of %s", ErrUnauthenticated, from, e.Node)
	}
	if r.raft.State() != raft.Leader {
		return raft.ErrNotLeader
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 { // raft waits for ever on 0
			return fmt.Errorf("%w: %v", ErrTimeout, context.DeadlineExceeded)
		}
	}
	if err := r.wait(ctx, r.raft.Apply(entry, timeout)); err != nil {
		return err
	}
	r.pushCommit()
	return nil
}

// wait waits for an applied entry until ctx ends. raft's own timeout
// bounds only the enqueueing: a leader that keeps its lease but cannot
// commit (a follower whose disk is full, the other one down) would hold
// the caller for ever. The entry may still commit after ctx ends: the
// outcome is then unknown (ErrTimeout).
func (r *Replica) wait(ctx context.Context, f raft.ApplyFuture) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }() // ends with the future: committed, or leadership lost
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: the log did not commit the entry in time: %v%s", ErrTimeout, ctx.Err(), r.storeHint())
	}
}

// storeHint names a recent failed write of this node's raft log, for the
// errors of proposals that did not go through.
func (r *Replica) storeHint() string {
	if err := r.logs.recentError(); err != nil {
		return fmt.Sprintf(" (this node cannot write its raft log: %v)", err)
	}
	return ""
}

// pushCommit tells the followers the leader's commit index now. raft
// carries it only on the next AppendEntries: the next entry, or the
// commit tick (CommitTimeout) otherwise. Appending a barrier sends one at
// once, so a follower applies a committed command (and a signer waiting
// for its index goes on) one round trip after the leader, and an idle
// cluster sends nothing but heartbeats. Barriers coalesce: one in flight,
// at most one queued behind it; the state machine never sees them.
func (r *Replica) pushCommit() {
	if !r.pushPending.CompareAndSwap(false, true) {
		return
	}
	go func() {
		r.pushMu.Lock()
		defer r.pushMu.Unlock()
		r.pushPending.Store(false)
		if err := r.raft.Barrier(5 * time.Second).Error(); err != nil {
			r.log.Debug("commit push", "err", err)
		}
	}()
}

// Applied is the last log index this node's state machine applied.
func (r *Replica) Applied() uint64 { return r.fsm.applied.Load() }

// WaitApplied waits until this node applied index, or ctx ends.
func (r *Replica) WaitApplied(ctx context.Context, index uint64) error {
	for {
		r.fsm.mu.Lock()
		ch := r.fsm.advanced
		r.fsm.mu.Unlock()
		if r.fsm.applied.Load() >= index {
			return nil
		}
		if r.fsm.broken.Load() {
			return r.fsm.brokenErr()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for log index %d (applied %d): %w", index, r.fsm.applied.Load(), ctx.Err())
		}
	}
}

// Status is this node's view of the cluster.
type Status struct {
	Node    string
	State   string // Leader, Follower, Candidate, Shutdown
	Leader  string
	Term    uint64
	Commit  uint64 // commit index known here
	Last    uint64 // last log index here
	Applied uint64 // applied by the ledger here
	Voters  []string
	Broken  bool
}

// Status reports this node's raft state.
func (r *Replica) Status() Status {
	_, leader := r.raft.LeaderWithID()
	st := r.raft.Stats()
	s := Status{Node: r.cfg.Node, State: r.raft.State().String(), Leader: string(leader),
		Term: atou(st["term"]), Commit: atou(st["commit_index"]), Last: r.raft.LastIndex(),
		Applied: r.Applied(), Broken: r.fsm.broken.Load()}
	if f := r.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			if srv.Suffrage == raft.Voter {
				s.Voters = append(s.Voters, string(srv.ID))
			}
		}
	}
	sort.Strings(s.Voters)
	return s
}

func atou(s string) uint64 {
	var v uint64
	_, _ = fmt.Sscan(s, &v)
	return v
}

// AddVoter adds a node (leader only).
func (r *Replica) AddVoter(node, addr string) error {
	r.layer.setAddress(node, addr)
	return r.raft.AddVoter(raft.ServerID(node), raft.ServerAddress(addr), 0, 30*time.Second).Error()
}

// RemoveServer removes a node (leader only).
func (r *Replica) RemoveServer(node string) error {
	return r.raft.RemoveServer(raft.ServerID(node), 0, 30*time.Second).Error()
}

// Snapshot takes a snapshot now (operators, tests).
func (r *Replica) Snapshot() error { return r.raft.Snapshot().Error() }

// catchUpFromSnapshot restores the ledger from the newest local snapshot
// when the ledger is behind it (its file was replaced or lost while the
// raft directory stayed): raft replays only the entries after its
// snapshot, so the ledger must start from there.
func catchUpFromSnapshot(store *ledger.Store, snaps raft.SnapshotStore, f *fsm, log *slog.Logger) error {
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return err
	}
	if list[0].Index <= f.applied.Load() {
		return nil
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", list[0].ID, err)
	}
	log.Warn("ledger is behind the local raft snapshot: restoring it", "ledger_applied", f.applied.Load(), "snapshot_index", list[0].Index)
	return f.Restore(rc)
}
