package replica

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// A node that lost its raft state (its store was wiped, its HSM token
// kept) comes back as a voter with an empty log. Raft assumes voters never
// forget: an empty voter would vote for any candidate, so with one stale
// node it could elect a leader missing committed entries and those entries
// would be overwritten. So a node that starts without raft state votes for
// nobody until enough other voters told it how long their logs are that
// one of them must hold every committed entry (n - n/2 of them: every
// entry was committed by a majority, this node perhaps among them), and it
// has applied as far as the longest of those logs.

// PeerLog reports the longest raft log among the peers that answered, and
// how many answered.
type PeerLog func(ctx context.Context) (last uint64, answered int, err error)

// voteGate holds votes back until applied reaches target.
type voteGate struct {
	target  atomic.Uint64 // 0: open
	applied func() uint64
}

func (g *voteGate) closed() bool {
	t := g.target.Load()
	if t == 0 {
		return false
	}
	if g.applied() >= t {
		g.target.Store(0)
		return false
	}
	return true
}

// gatedTransport answers vote and pre-vote requests with a refusal while
// the gate is closed; every other RPC passes through.
type gatedTransport struct {
	*raft.NetworkTransport
	gate *voteGate
	r    atomic.Pointer[raft.Raft] // for the current term in refusals
	out  chan raft.RPC
}

func newGatedTransport(t *raft.NetworkTransport, gate *voteGate) *gatedTransport {
	g := &gatedTransport{NetworkTransport: t, gate: gate, out: make(chan raft.RPC)}
	go g.run()
	return g
}

func (g *gatedTransport) Consumer() <-chan raft.RPC { return g.out }

func (g *gatedTransport) run() {
	for rpc := range g.NetworkTransport.Consumer() {
		if g.gate.closed() {
			term := uint64(0)
			if r := g.r.Load(); r != nil {
				term = termOf(r)
			}
			switch rpc.Command.(type) {
			case *raft.RequestVoteRequest:
				rpc.Respond(&raft.RequestVoteResponse{Term: term, Granted: false}, nil)
				continue
			case *raft.RequestPreVoteRequest:
				rpc.Respond(&raft.RequestPreVoteResponse{Term: term, Granted: false}, nil)
				continue
			}
		}
		g.out <- rpc
	}
}

// closedUntilPeersAnswer keeps the gate shut until need peers answered,
// then sets it to open once this node applied as far as their longest log
// (at once, for a new cluster whose logs hold only the bootstrap entry).
// It also opens once this node follows a leader and applied up to that
// leader's commit index: an elected leader holds every committed entry.
func (g *voteGate) closedUntilPeersAnswer(peers PeerLog, need int, following func() bool, bootstrap func(), done <-chan struct{}, log func(string, ...any)) {
	g.target.Store(^uint64(0))
	for {
		if following() {
			g.target.Store(0)
			log("caught up with an elected leader: this node votes")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last, answered, err := peers(ctx)
		cancel()
		if err == nil && answered >= need {
			if last > 1 {
				g.target.Store(last)
				log("peers answered: this node votes once it applied their log", "peer_last_index", last, "answered", answered)
			} else {
				bootstrap()
				g.target.Store(0)
				log("peers answered: a new cluster, this node votes", "answered", answered)
			}
			return
		}
		select {
		case <-done:
			return
		case <-time.After(time.Second):
		}
	}
}

// caughtUpWithLeader reports whether r follows a leader and applied every
// entry that leader committed.
func caughtUpWithLeader(r *raft.Raft, self string) bool {
	if r == nil {
		return false
	}
	_, leader := r.LeaderWithID()
	commit, _ := strconv.ParseUint(r.Stats()["commit_index"], 10, 64)
	return leader != "" && string(leader) != self && commit > 1 && r.AppliedIndex() >= commit
}

func termOf(r *raft.Raft) uint64 {
	v, _ := strconv.ParseUint(r.Stats()["term"], 10, 64)
	return v
}
