package signer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// prepareWait bounds how long the coordinator waits for a peer to become
// reachable before it reports it as down.
const prepareWait = 5 * time.Second

// minKeySessionTimeout is the least time a keygen or reshare session gets.
const minKeySessionTimeout = 2 * time.Minute

// ErrNotParty means the coordinating node takes no part in the session.
var ErrNotParty = errors.New("coordinate: this node takes no part in the session; ask one that does")

// SessionFailedError reports a session that failed on one or more nodes.
type SessionFailedError struct {
	Stage    string            // "prepare" or "run"
	Nodes    map[string]string // node → what it reported
	Culprits []string
	// Unreachable lists the nodes that could not be reached at prepare
	// (as opposed to nodes that answered and refused).
	Unreachable []string
}

func (e *SessionFailedError) Error() string {
	var parts []string
	for _, n := range sortedKeys(e.Nodes) {
		parts = append(parts, n+": "+e.Nodes[n])
	}
	msg := fmt.Sprintf("session failed at %s: %s", e.Stage, strings.Join(parts, "; "))
	if len(e.Culprits) > 0 {
		msg += " [culprit: " + strings.Join(e.Culprits, ", ") + "]"
	}
	return msg
}

// progressFn reports coordination progress to the operator.
type progressFn func(stage, node string, p *ctss.Progress)

// coordinate relays one session: prepare on every node, then run on every
// node, and gather each node's outcome. The coordinator decides nothing
// for the others: each node checks the spec itself.
func (n *Node) coordinate(ctx context.Context, spec *peerpb.SessionSpec, progress progressFn) (map[string]*peerpb.RunResponse, error) {
	if progress == nil {
		progress = func(string, string, *ctss.Progress) {}
	}
	spec.Coordinator = n.cfg.Node
	spec.Attempt = make([]byte, 16)
	if _, err := rand.Read(spec.Attempt); err != nil {
		return nil, err
	}
	timeout := time.Duration(n.cfg.Sessions.Timeout)
	if spec.Kind == peerpb.Kind_KIND_KEYGEN || spec.Kind == peerpb.Kind_KIND_RESHARE {
		// a keygen or reshare proves Paillier keys and may take
		// pre-parameters from an empty pool: a signing timeout tuned short
		// does not bound it (the participants' max_timeout still does)
		timeout = min(max(timeout, minKeySessionTimeout), time.Duration(n.cfg.Sessions.MaxTimeout))
	}
	spec.DeadlineUnixMs = n.now().Add(timeout).UnixMilli()
	sid, err := SessionID(spec)
	if err != nil {
		return nil, err
	}
	nodes := slices.Compact(slices.Sorted(slices.Values(slices.Concat(spec.Parties, spec.NewParties))))
	if !slices.Contains(nodes, n.cfg.Node) {
		return nil, ErrNotParty
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()

	req := &peerpb.PrepareRequest{SessionId: sid, Spec: spec}
	prepErrs := n.each(nodes, func(node string) error {
		if node == n.cfg.Node {
			return n.Prepare(ctx, node, req)
		}
		p, err := n.client.Peer(node)
		if err != nil {
			return err
		}
		// wait briefly for a peer that is reconnecting; a dead one is
		// reported after prepareWait
		pctx, cancel := context.WithTimeout(ctx, prepareWait)
		defer cancel()
		_, err = p.Prepare(pctx, req, grpc.WaitForReady(true))
		return err
	})
	if len(prepErrs) > 0 {
		fail := &SessionFailedError{Stage: "prepare", Nodes: map[string]string{}}
		for node, err := range prepErrs {
			fail.Nodes[node] = statusMessage(err)
			if c := status.Code(err); c == codes.Unavailable || c == codes.DeadlineExceeded {
				fail.Unreachable = append(fail.Unreachable, node)
			}
		}
		sort.Strings(fail.Unreachable)
		n.abortPrepared(sid, nodes, prepErrs, "a node refused to prepare")
		return nil, fail
	}
	for _, node := range nodes {
		progress("prepared", node, nil)
	}
	n.mu.Lock()
	if e, ok := n.sessions[string(sid)]; ok {
		e.progress = func(p ctss.Progress) { progress("round", n.cfg.Node, &p) }
	}
	n.mu.Unlock()

	var mu sync.Mutex
	resps := map[string]*peerpb.RunResponse{}
	runErrs := n.each(nodes, func(node string) error {
		var r *peerpb.RunResponse
		var err error
		if node == n.cfg.Node {
			r, err = n.RunSession(ctx, node, &peerpb.RunRequest{SessionId: sid})
		} else if p, perr := n.client.Peer(node); perr != nil {
			err = perr
		} else {
			r, err = p.Run(ctx, &peerpb.RunRequest{SessionId: sid})
		}
		if err == nil && r.Failure != "" {
			err = &ctss.SessionError{Reason: r.Failure, Culprits: r.Culprits}
		}
		if err == nil {
			mu.Lock()
			resps[node] = r
			mu.Unlock()
			progress("done", node, nil)
		}
		return err
	})
	if len(runErrs) > 0 {
		fail := &SessionFailedError{Stage: "run", Nodes: map[string]string{}}
		seen := map[string]bool{}
		// A node another one names only because this node aborted to it
		// (honest blame: an abort names its sender) is not a culprit when
		// this node's own account names who failed it.
		var own *ctss.SessionError
		if errors.As(runErrs[n.cfg.Node], &own) && len(own.Culprits) > 0 && !slices.Contains(own.Culprits, n.cfg.Node) {
			seen[n.cfg.Node] = true
		}
		for node, err := range runErrs {
			fail.Nodes[node] = statusMessage(err)
			var se *ctss.SessionError
			if errors.As(err, &se) {
				fail.Nodes[node] = se.Reason
				for _, c := range se.Culprits {
					if !seen[c] {
						seen[c] = true
						fail.Culprits = append(fail.Culprits, c)
					}
				}
			} else if !seen[node] {
				// the node itself could not be reached or run the session
				seen[node] = true
				fail.Culprits = append(fail.Culprits, node)
			}
		}
		sort.Strings(fail.Culprits)
		return resps, fail
	}
	return resps, nil
}

// each runs f for every node concurrently and returns the failures.
func (n *Node) each(nodes []string, f func(node string) error) map[string]error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := map[string]error{}
	for _, node := range nodes {
		wg.Add(1)
		go func(node string) {
			defer wg.Done()
			if err := f(node); err != nil {
				mu.Lock()
				errs[node] = err
				mu.Unlock()
			}
		}(node)
	}
	wg.Wait()
	return errs
}

func (n *Node) abortPrepared(sid []byte, nodes []string, failed map[string]error, reason string) {
	for _, node := range nodes {
		if _, bad := failed[node]; bad {
			continue
		}
		if node == n.cfg.Node {
			_ = n.Abort(context.Background(), node, &peerpb.AbortRequest{SessionId: sid, Reason: reason})
			n.mu.Lock()
			if e, ok := n.sessions[string(sid)]; ok && e.state == prepared {
				e.discard()
				delete(n.sessions, string(sid))
			}
			n.mu.Unlock()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if p, err := n.client.Peer(node); err == nil {
			_, _ = p.Abort(ctx, &peerpb.AbortRequest{SessionId: sid, Reason: reason})
		}
		cancel()
	}
}

func statusMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
