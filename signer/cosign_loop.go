package signer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
)

const (
	// cosignInterval is how often a node asks its peers to cosign its
	// latest audit checkpoint, when its log grew since they last did.
	cosignInterval = 2 * time.Second
	// cosignTimeout bounds one Cosign call, so a slow peer delays only
	// its own witness.
	cosignTimeout = 5 * time.Second
)

// cosigner is the part of a peer's client the loop uses
// (peerpb.PeerClient); dialCosigner returns it for a member.
type cosigner interface {
	Cosign(ctx context.Context, req *peerpb.CosignRequest, opts ...grpc.CallOption) (*peerpb.CosignResponse, error)
}

type dialCosigner func(id string) (cosigner, error)

// witness is what this node knows of one peer's cosigning of its log.
// Each is touched by one goroutine at a time.
type witness struct {
	size    uint64 // the largest size of this log the peer cosigned
	known   bool   // size is known (false until the peer first answered)
	failure string // the last failure logged, so each new one is logged once
}

// cosignLoop has the peers witness this node's audit log (DESIGN.md §7):
// every cosignInterval, if the log grew, it asks each peer to cosign the
// latest checkpoint, proving consistency with the last one that peer
// cosigned, and stores the cosignatures with the checkpoint. A peer that
// keeps a copy of every checkpoint it cosigned makes a fork or a rollback
// of this log visible to auditors. It returns when ctx ends.
func (n *Node) cosignLoop(ctx context.Context) {
	state := map[string]*witness{}
	for _, id := range n.memberIDs() {
		if id != n.cfg.Node {
			state[id] = &witness{}
		}
	}
	t := time.NewTicker(cosignInterval)
	defer t.Stop()
	for {
		// the first round at once: a peer holding a later checkpoint of
		// this log (a store rolled back with its checkpoint file) says so
		n.cosignRound(ctx, state, func(id string) (cosigner, error) { return n.client.Peer(id) })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cosignRound asks, in parallel, every peer that has not cosigned the
// current size.
func (n *Node) cosignRound(ctx context.Context, state map[string]*witness, dial dialCosigner) {
	size := n.audit.Size() // an empty log too: a fresh cluster verifies
	var latest audit.SignedCheckpoint
	var wg sync.WaitGroup
	for id, w := range state {
		if w.known && w.size >= size {
			continue
		}
		if latest.Note == nil {
			var err error
			if latest, err = n.audit.Latest(ctx); err != nil {
				n.log.Error("cosign: read latest audit checkpoint", "err", err)
				return
			}
		}
		wg.Go(func() { n.askCosign(ctx, dial, id, latest, w) })
	}
	wg.Wait()
}

// askCosign has one peer cosign latest and logs the outcome when it
// changes.
func (n *Node) askCosign(ctx context.Context, dial dialCosigner, id string, latest audit.SignedCheckpoint, w *witness) {
	cl, err := dial(id)
	if err == nil {
		err = n.cosignBy(ctx, cl, id, latest, w)
	}
	if err != nil {
		if msg := statusMessage(err); msg != w.failure && ctx.Err() == nil {
			level := slog.LevelWarn
			if c := status.Code(err); c == codes.Aborted || c == codes.FailedPrecondition {
				level = slog.LevelError // the peer saw a fork or a rollback of this log
			}
			n.log.Log(ctx, level, "peer did not cosign this node's audit checkpoint", "peer", id, "size", latest.Size, "err", msg)
			w.failure = msg
		}
		return
	}
	if w.failure != "" {
		n.log.Info("peer cosigns this node's audit checkpoints again", "peer", id, "size", latest.Size)
		w.failure = ""
	}
}

// cosignBy sends latest to a peer with the consistency proof from the
// size the peer last cosigned; a peer that last cosigned another size
// (after a restart of either node) says which, and is asked once more.
func (n *Node) cosignBy(ctx context.Context, cl cosigner, id string, latest audit.SignedCheckpoint, w *witness) error {
	from := w.size
	for range 2 {
		if from > latest.Size {
			n.log.Error("a peer cosigned a larger tree of this node's audit log than the log holds: the log was rolled back",
				"peer", id, "cosigned", from, "size", latest.Size)
			return fmt.Errorf("cosign by %s: it cosigned size %d, this log has %d", id, from, latest.Size)
		}
		var proof [][]byte
		var err error
		if from > 0 && from < latest.Size {
			if proof, err = n.audit.ConsistencyProof(ctx, from, latest.Size); err != nil {
				return fmt.Errorf("cosign by %s: %w", id, err)
			}
		}
		cctx, cancel := context.WithTimeout(ctx, cosignTimeout)
		resp, err := cl.Cosign(cctx, &peerpb.CosignRequest{SignedCheckpoint: latest.Note, ConsistencyProof: proof, FromSize: from})
		cancel()
		if err != nil {
			return err
		}
		if len(resp.Ahead) > 0 {
			if len(resp.Ahead) > audit.MaxCheckpointSize {
				return fmt.Errorf("cosign by %s: its answer is %d bytes", id, len(resp.Ahead))
			}
			// a true copy of what this node signed, or nothing: Ahead
			// checks this node's own signature on it
			if err := n.audit.Ahead(resp.Ahead); err != nil {
				return fmt.Errorf("cosign by %s: %w", id, err)
			}
			return fmt.Errorf("cosign by %s: it returned checkpoint size %d as ahead, which this log holds", id, resp.LastSize)
		}
		if resp.NeedProof {
			from = resp.LastSize
			continue
		}
		if err := n.checkCosigned(id, resp.Cosigned); err != nil {
			return err
		}
		if err := n.audit.AddCosignatures(ctx, resp.Cosigned); err != nil {
			return fmt.Errorf("store cosignature by %s: %w", id, err)
		}
		w.size, w.known = latest.Size, true
		n.log.Debug("audit checkpoint cosigned", "peer", id, "size", latest.Size)
		return nil
	}
	return fmt.Errorf("cosign by %s: it asked for a proof from another size twice", id)
}

// checkCosigned checks that a peer's answer carries that peer's valid
// signature (AddCosignatures checks the rest).
func (n *Node) checkCosigned(id string, cosigned []byte) error {
	vs, err := n.auditVerifiers()
	if err != nil {
		return err
	}
	origin, _ := audit.Origin(n.cfg.Cluster, id)
	cp, nt, err := audit.OpenCheckpoint(cosigned, vs)
	if err != nil {
		return fmt.Errorf("cosign by %s: its answer: %w", id, err)
	}
	if !slices.Contains(audit.Cosigners(nt, cp.Origin), origin) {
		return fmt.Errorf("cosign by %s: its answer carries no valid signature of %s", id, origin)
	}
	return nil
}
