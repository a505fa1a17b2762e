package signer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/signer/peer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

type state int

const (
	prepared state = iota
	running
	ended
)

// entry is one session on this node. A transfer runs one tss signing
// sub-session per sighash; other kinds have a single sub-session whose ID
// is the session ID.
type entry struct {
	spec      *peerpb.SessionSpec
	subs      []*ctss.Session
	deadline  time.Time
	state     state
	discard   func() // zeroes unsealed secrets of a session that never ran
	onSuccess func(context.Context, []*ctss.Result) (*peerpb.RunResponse, error)
	onFailure func(context.Context, error) // releases what the gate reserved
	after     func()                       // runs once the session ended either way
	progress  func(ctss.Progress)
	endedAt   time.Time
}

// nodes lists the nodes taking part, sorted.
func (e *entry) nodes() []string {
	if len(e.subs) == 0 { // not built yet
		return slices.Sorted(slices.Values(slices.Concat(e.spec.GetParties(), e.spec.GetNewParties())))
	}
	return e.subs[0].Nodes()
}

// exposed reports whether any sub-session sent this node's last-round
// share: one exposed input is enough, since sessions over the same
// transaction bytes can be combined.
func (e *entry) exposed() bool {
	return slices.ContainsFunc(e.subs, (*ctss.Session).Exposed)
}

func (e *entry) abort(err error) {
	for _, s := range e.subs {
		s.Abort(err)
	}
}

// single wraps a one-result onSuccess.
func single(f func(context.Context, *ctss.Result) (*peerpb.RunResponse, error)) func(context.Context, []*ctss.Result) (*peerpb.RunResponse, error) {
	return func(ctx context.Context, rs []*ctss.Result) (*peerpb.RunResponse, error) { return f(ctx, rs[0]) }
}

var _ peer.Handler = (*Node)(nil)

// Prepare implements peer.Handler: the node checks the spec on its own
// state and builds its parties.
func (n *Node) Prepare(ctx context.Context, from string, req *peerpb.PrepareRequest) error {
	spec := req.GetSpec()
	if spec == nil {
		return status.Error(codes.InvalidArgument, "prepare: missing spec")
	}
	if spec.Coordinator != from {
		return status.Errorf(codes.PermissionDenied, "prepare: %s relayed a session that names %q as coordinator", from, spec.Coordinator)
	}
	sid, err := SessionID(spec)
	if err != nil || !bytes.Equal(sid, req.SessionId) {
		return status.Error(codes.InvalidArgument, "prepare: session ID does not match the spec")
	}
	now := n.now()
	deadline := time.UnixMilli(spec.DeadlineUnixMs)
	if !deadline.After(now) || deadline.After(now.Add(time.Duration(n.cfg.Sessions.MaxTimeout))) {
		return status.Errorf(codes.InvalidArgument, "prepare: deadline %s is outside (now, now+%s]", deadline.UTC().Format(time.RFC3339), time.Duration(n.cfg.Sessions.MaxTimeout))
	}
	for _, m := range slices.Concat(spec.Parties, spec.NewParties, spec.OldCommittee) {
		if _, ok := n.members[m]; !ok {
			return status.Errorf(codes.InvalidArgument, "prepare: %q is not a cluster member", m)
		}
	}
	if !ValidKeyID(spec.KeyId) {
		return status.Errorf(codes.InvalidArgument, "prepare: malformed key ID %q", spec.KeyId)
	}
	key := string(sid)
	n.mu.Lock()
	_, dup := n.sessions[key]
	live, fromThis := n.liveSessions(from)
	n.mu.Unlock()
	if dup {
		return status.Error(codes.AlreadyExists, "prepare: session exists")
	}
	if fromThis >= maxSessionsPerCoordinator || live >= maxSessions {
		return status.Errorf(codes.ResourceExhausted, "prepare: %d sessions live here, %d of them from %s (at most %d, and %d from one coordinator)",
			live, fromThis, from, maxSessions, maxSessionsPerCoordinator)
	}
	var e *entry
	switch spec.Kind {
	case peerpb.Kind_KIND_KEYGEN:
		e, err = n.prepareKeygen(ctx, sid, spec)
	case peerpb.Kind_KIND_SIGN:
		e, err = n.prepareSign(ctx, sid, spec)
	case peerpb.Kind_KIND_RESHARE:
		e, err = n.prepareReshare(ctx, sid, spec)
	case peerpb.Kind_KIND_TRANSFER:
		e, err = n.prepareTransfer(ctx, sid, spec)
	default:
		return status.Errorf(codes.InvalidArgument, "prepare: unknown session kind %v", spec.Kind)
	}
	if err != nil {
		if n.logDamage(err, "prepare session "+short(sid)) {
			return status.Errorf(codes.Unavailable, "prepare on %s: %v", n.cfg.Node, ErrStoreDamaged)
		}
		n.log.Warn("refused session", "session", short(sid), "kind", spec.Kind.String(), "key", spec.KeyId, "from", from, "err", err)
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Errorf(codes.FailedPrecondition, "prepare on %s: %v", n.cfg.Node, err)
	}
	e.spec, e.deadline, e.state = spec, deadline, prepared
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.sessions[key]; dup {
		e.discard()
		if e.onFailure != nil {
			e.onFailure(ctx, errors.New("duplicate session"))
		}
		return status.Error(codes.AlreadyExists, "prepare: session exists")
	}
	// the caps again, under the lock that admits the session: Prepares
	// racing past the first check do not add up beyond them
	if live, fromThis := n.liveSessions(from); fromThis >= maxSessionsPerCoordinator || live >= maxSessions {
		e.discard()
		if e.onFailure != nil {
			e.onFailure(ctx, errors.New("over the session caps"))
		}
		return status.Errorf(codes.ResourceExhausted, "prepare: %d sessions live here, %d of them from %s (at most %d, and %d from one coordinator)",
			live, fromThis, from, maxSessions, maxSessionsPerCoordinator)
	}
	n.sessions[key] = e
	for _, sub := range e.subs {
		n.sessions[string(sub.ID())] = e
	}
	n.log.Info("session prepared", "session", short(sid), "kind", spec.Kind.String(), "key", spec.KeyId, "coordinator", from)
	return nil
}

// RunSession implements peer.Handler: it runs the prepared session to its end.
func (n *Node) RunSession(ctx context.Context, from string, req *peerpb.RunRequest) (*peerpb.RunResponse, error) {
	n.mu.Lock()
	e, ok := n.sessions[string(req.SessionId)]
	if ok && e.spec.Coordinator != from {
		n.mu.Unlock()
		return nil, status.Errorf(codes.PermissionDenied, "run: %s is not this session's coordinator", from)
	}
	if ok && e.state != prepared {
		n.mu.Unlock()
		return nil, status.Error(codes.FailedPrecondition, "run: session already started")
	}
	if ok {
		e.state = running
	}
	n.mu.Unlock()
	if !ok {
		return nil, status.Error(codes.NotFound, "run: no such session")
	}
	rctx, cancel := context.WithDeadline(ctx, e.deadline)
	defer cancel()
	if e.after != nil {
		defer e.after()
	}
	start := time.Now()
	res, err := e.runAll(rctx, transport{n.client})
	if err == nil {
		err = withheld(req.SessionId, res)
	}
	var resp *peerpb.RunResponse
	if err != nil {
		if e.onFailure != nil {
			e.onFailure(context.WithoutCancel(rctx), err)
		}
	} else if resp, err = e.onSuccess(rctx, res); err != nil {
		// The signatures exist: whatever failed after them, the
		// reservation stays (the inputs stay taken, the request stays
		// signing) so nothing can be signed again; an operator resolves it.
		n.log.Error("signatures produced but not recorded; reservation kept", "session", short(req.SessionId), "key", e.spec.KeyId, "err", err)
	}
	n.mu.Lock()
	e.state, e.endedAt = ended, n.now()
	n.mu.Unlock()
	if err != nil {
		var se *ctss.SessionError
		failure, culprits := err.Error(), []string(nil)
		if errors.As(err, &se) {
			failure, culprits = se.Reason, se.Culprits
		}
		n.log.Warn("session failed", "session", short(req.SessionId), "kind", e.spec.Kind.String(), "key", e.spec.KeyId, "err", failure, "culprits", culprits)
		n.broadcastAbort(e, req.SessionId, failure, culprits)
		return &peerpb.RunResponse{Failure: failure, Culprits: culprits}, nil
	}
	n.log.Info("session done", "session", short(req.SessionId), "kind", e.spec.Kind.String(), "key", e.spec.KeyId, "took", time.Since(start).Round(time.Millisecond).String())
	return resp, nil
}

// Deliver implements peer.Handler.
func (n *Node) Deliver(_ context.Context, from string, env *peerpb.Envelope) error {
	n.mu.Lock()
	e, ok := n.sessions[string(env.SessionId)]
	n.mu.Unlock()
	if !ok {
		return status.Error(codes.NotFound, "deliver: no such session")
	}
	if !slices.Contains(e.nodes(), from) {
		// a node outside the session is refused; the session goes on
		return status.Errorf(codes.PermissionDenied, "deliver: %s takes no part in this session", from)
	}
	var sub *ctss.Session
	for _, x := range e.subs {
		if bytes.Equal(x.ID(), env.SessionId) {
			sub = x
		}
	}
	if sub == nil {
		return status.Error(codes.NotFound, "deliver: no such session")
	}
	err := sub.Deliver(from, ctss.Envelope{Session: env.SessionId, From: env.FromParty, To: env.ToParties, Broadcast: env.Broadcast, Payload: env.Payload})
	if err != nil {
		if errors.Is(err, ctss.ErrBadMessage) {
			n.log.Warn("refused peer message", "session", short(env.SessionId), "from", from, "err", err)
			return status.Errorf(codes.InvalidArgument, "deliver: %v", err)
		}
		return status.Errorf(codes.Aborted, "deliver: %v", err)
	}
	return nil
}

// Abort implements peer.Handler.
func (n *Node) Abort(_ context.Context, from string, req *peerpb.AbortRequest) error {
	n.mu.Lock()
	e, ok := n.sessions[string(req.SessionId)]
	n.mu.Unlock()
	if !ok {
		return status.Error(codes.NotFound, "abort: no such session")
	}
	if !slices.Contains(e.nodes(), from) && from != e.spec.Coordinator {
		return status.Errorf(codes.PermissionDenied, "abort: %s takes no part in this session", from)
	}
	// Honest blame: the peer that aborted is the one named. What it says
	// of others is its word, kept (bounded) as text, never as culprits.
	said := safeText(req.Reason, maxPeerText)
	if len(req.Culprits) > 0 {
		said += safeText(" (it blames "+strings.Join(req.Culprits, ", ")+")", maxPeerText)
	}
	e.abort(&ctss.SessionError{Reason: fmt.Sprintf("aborted by %s: %s", from, said), Culprits: []string{from}, Err: ctss.ErrAborted})
	n.mu.Lock()
	if e.state == prepared {
		e.state, e.endedAt = ended, n.now()
		e.discard()
		if e.onFailure != nil {
			e.onFailure(context.Background(), &ctss.SessionError{Reason: fmt.Sprintf("aborted by %s before it ran: %s", from, said),
				Culprits: []string{from}, Err: ctss.ErrAborted})
		}
	}
	n.mu.Unlock()
	return nil
}

// broadcastAbort tells the other nodes of a failed session, best effort.
func (n *Node) broadcastAbort(e *entry, sid []byte, reason string, culprits []string) {
	var wg sync.WaitGroup
	for _, node := range e.nodes() {
		if node == n.cfg.Node || slices.Contains(culprits, node) {
			continue
		}
		wg.Add(1)
		go func(node string) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if p, err := n.client.Peer(node); err == nil {
				_, _ = p.Abort(ctx, &peerpb.AbortRequest{SessionId: sid, Reason: reason, Culprits: culprits})
			}
		}(node)
	}
	wg.Wait()
}

// reap drops ended sessions after a grace period and discards prepared
// sessions whose deadline passed without a Run.
func (n *Node) reap(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := n.now()
		n.mu.Lock()
		for k, e := range n.sessions {
			switch {
			case e.state == ended && now.Sub(e.endedAt) > 30*time.Second:
				delete(n.sessions, k)
			case e.state == prepared && now.After(e.deadline):
				// one entry stands under several keys: end it once
				e.state, e.endedAt = ended, now
				e.discard()
				if e.onFailure != nil {
					e.onFailure(context.Background(), errors.New("prepared session never ran"))
				}
				delete(n.sessions, k)
			}
		}
		n.mu.Unlock()
	}
}

// transport adapts the peer client to signer/tss.
type transport struct{ c *peer.Client }

func (t transport) Send(ctx context.Context, node string, env ctss.Envelope) error {
	err := t.c.Send(ctx, node, &peerpb.Envelope{SessionId: env.Session, FromParty: env.From, ToParties: env.To, Broadcast: env.Broadcast, Payload: env.Payload})
	if status.Code(err) == codes.Aborted {
		return fmt.Errorf("%w: %v", ctss.ErrPeerAborted, err)
	}
	return err
}

// runAll runs every sub-session concurrently; the first failure aborts the
// others. Results come back in sub-session order.
func (e *entry) runAll(ctx context.Context, tr ctss.Transport) ([]*ctss.Result, error) {
	out := make([]*ctss.Result, len(e.subs))
	errs := make([]error, len(e.subs))
	var wg sync.WaitGroup
	for i, s := range e.subs {
		wg.Add(1)
		go func(i int, s *ctss.Session) {
			defer wg.Done()
			out[i], errs[i] = s.Run(ctx, tr, e.progress)
			if errs[i] != nil {
				e.abort(errs[i])
			}
		}(i, s)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ctss.ErrAborted) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Caps on sessions a node holds at once (prepared or running): one
// member cannot make another hold unbounded sessions, each with shares
// unsealed and inboxes filling, nor crowd out the others.
const (
	maxSessions               = 384
	maxSessionsPerCoordinator = 128
)

// liveSessions counts the sessions not yet ended, and those of them
// coordinated by from; n.mu is held.
func (n *Node) liveSessions(from string) (live, fromThis int) {
	seen := map[*entry]bool{}
	for _, e := range n.sessions {
		if seen[e] || e.state == ended {
			continue
		}
		seen[e] = true
		live++
		if e.spec.GetCoordinator() == from {
			fromThis++
		}
	}
	return live, fromThis
}
