package tss

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bnb-chain/tss-lib/v3/common"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// MaxPayload bounds one tss-lib wire message. The largest, keygen's round
// 1 broadcast with its Paillier and ring-Pedersen proofs, is about 134 KB
// (resharing's is of the same make).
const MaxPayload = 512 << 10

// maxQueuedPerSender bounds the bytes one sender may have waiting in a
// session's inbox. An honest party is at most a round ahead of the
// slowest (it needs everyone's messages to go on), so a few of its round
// messages wait at once; a flood from one peer stops here, its sender
// named, with the node's memory bounded by this times the session caps.
const maxQueuedPerSender = 1 << 20

const inboxSize = 1024

// Envelope is one tss-lib wire message between nodes.
type Envelope struct {
	Session   []byte
	From      []byte   // sender's party key
	To        [][]byte // destination party keys, all on the receiving node
	Broadcast bool
	Payload   []byte
}

// Transport carries envelopes to other nodes.
type Transport interface {
	Send(ctx context.Context, node string, env Envelope) error
}

// Progress reports a local party entering a protocol round.
type Progress struct {
	Node   string
	Round  int
	Rounds int
}

// Signature is an ECDSA signature with its recovery bit.
type Signature struct {
	R, S     *big.Int
	Recovery byte
}

// Result is what a session produced on this node.
type Result struct {
	PublicKey *ecdsa.PublicKey // the (derived) key
	Share     *Share           // keygen, or reshare on a new-committee node
	Signature *Signature       // sign
	// Confirmations are every party's signed word on a keygen's outcome,
	// all matching, sorted by node.
	Confirmations []Confirmation
}

type inbound struct {
	fromNode string
	env      Envelope
	queued   int // bytes counted against the sender's queue
}

type partyDone struct {
	key  string
	save *keygen.LocalPartySaveData
	sig  *common.SignatureData
}

// Session drives this node's tss-lib parties for one protocol run.
type Session struct {
	id     []byte
	self   string
	rounds int
	log    *slog.Logger

	all     map[string]*tsslib.PartyID // every party, by key hex
	owner   map[string]string          // key hex → node
	peersOf map[string][]string        // key hex → same-committee parties (broadcast targets)
	local   map[string]tsslib.Party    // filled by the constructor or by build
	order   []string                   // local party keys in start order (read-only once made)
	isLocal map[string]bool            // the keys in order (read-only once made)
	// build, when set, makes the local parties at the start of Run: what
	// they need (an unsealed share, pre-parameters) is taken only for a
	// session that runs.
	build func(context.Context) error

	out   chan tsslib.Message
	inbox chan inbound
	done  chan partyDone

	finish func(map[string]partyDone) (*Result, error)
	onEnd  func()

	abortOnce sync.Once
	abortCh   chan struct{}
	abortErr  error

	qmu    sync.Mutex
	queued map[string]int // sender node → bytes waiting in the inbox
	// seen holds (sender party, message type, recipient) of every message
	// processed: each is sent once per session, a second is refused.
	// Run's goroutine alone uses it.
	seen map[string]bool

	transcript transcript // every broadcast's hash
	confirm    *confirmer // keygen's confirmation round, when set

	// finalType is the message type that carries this node's share of the
	// signature (signing's last round); exposed is set once one of them
	// was handed to the transport.
	finalType string
	exposed   atomic.Bool
}

// Exposed reports whether this node sent its share of the last signing
// round: from then on whoever gathers the shares may hold a signature,
// even if the session fails here. A session that is not a signing one is
// never exposed.
func (s *Session) Exposed() bool { return s.exposed.Load() }

// ID is the session ID.
func (s *Session) ID() []byte { return s.id }

func newSession(id []byte, self string, rounds int, log *slog.Logger) *Session {
	return &Session{
		id: id, self: self, rounds: rounds, log: log,
		all: map[string]*tsslib.PartyID{}, owner: map[string]string{},
		peersOf: map[string][]string{}, local: map[string]tsslib.Party{}, isLocal: map[string]bool{},
		out:     make(chan tsslib.Message, 256),
		inbox:   make(chan inbound, inboxSize),
		done:    make(chan partyDone, 4),
		abortCh: make(chan struct{}),
		queued:  map[string]int{}, seen: map[string]bool{},
	}
}

// addCommittee registers a committee's parties; broadcasts from one of
// them go to the others.
func (s *Session) addCommittee(ps partySet) {
	keys := make([]string, 0, len(ps.sorted))
	for _, p := range ps.sorted {
		k := keyHex(p.Key)
		s.all[k] = p
		s.owner[k] = p.Moniker
		keys = append(keys, k)
	}
	for _, k := range keys {
		for _, o := range keys {
			if o != k {
				s.peersOf[k] = append(s.peersOf[k], o)
			}
		}
	}
}

// expect registers a local party key, in start order, before its party
// exists: Deliver routes to it from then on.
func (s *Session) expect(key string) {
	s.order = append(s.order, key)
	s.isLocal[key] = true
}

// Nodes lists the nodes that run a party in this session, sorted.
func (s *Session) Nodes() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range s.owner {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Abort ends the session with err (a *SessionError names culprits).
func (s *Session) Abort(err error) {
	s.abortOnce.Do(func() {
		s.abortErr = err
		close(s.abortCh)
		// what waits in the inbox will never be read: let it go now, not
		// when the session is reaped
		for {
			select {
			case <-s.inbox:
			default:
				return
			}
		}
	})
}

func (s *Session) abortBy(node, reason string, err error) error {
	se := &SessionError{Reason: reason, Culprits: []string{node}, Err: err}
	s.Abort(se)
	return se
}

// Deliver accepts one envelope from fromNode, the authenticated peer. A
// refused envelope aborts the session and names fromNode.
func (s *Session) Deliver(fromNode string, env Envelope) error {
	select {
	case <-s.abortCh:
		return fmt.Errorf("deliver to session %x: %w", s.id[:4], ErrAborted)
	default:
	}
	if len(env.Payload) > MaxPayload {
		return s.abortBy(fromNode, fmt.Sprintf("oversized message (%d bytes) from %s", len(env.Payload), fromNode), ErrBadMessage)
	}
	from := keyHex(env.From)
	if owner, ok := s.owner[from]; !ok || owner != fromNode {
		return s.abortBy(fromNode, fmt.Sprintf("%s sent a message for a party it does not hold", fromNode), ErrBadMessage)
	}
	if len(env.To) == 0 {
		return s.abortBy(fromNode, fmt.Sprintf("%s sent a message without recipients", fromNode), ErrBadMessage)
	}
	for _, to := range env.To {
		if !s.isLocal[keyHex(to)] {
			return s.abortBy(fromNode, fmt.Sprintf("%s addressed a party this node does not run", fromNode), ErrBadMessage)
		}
	}
	size := len(env.Payload)
	s.qmu.Lock()
	if s.queued[fromNode]+size > maxQueuedPerSender {
		s.qmu.Unlock()
		return s.abortBy(fromNode, fmt.Sprintf("%s sent more than %d bytes ahead of the session", fromNode, maxQueuedPerSender), ErrBadMessage)
	}
	s.queued[fromNode] += size
	s.qmu.Unlock()
	select {
	case s.inbox <- inbound{fromNode: fromNode, env: env, queued: size}:
		return nil
	default:
		s.dequeued(fromNode, size)
		return s.abortBy(fromNode, fmt.Sprintf("%s flooded the session", fromNode), ErrBadMessage)
	}
}

// dequeued returns a processed message's bytes to its sender's queue.
func (s *Session) dequeued(fromNode string, size int) {
	s.qmu.Lock()
	s.queued[fromNode] -= size
	s.qmu.Unlock()
}

// Run starts the local parties and drives them until they finish, the
// session is aborted, or ctx ends. On a timeout the parties still awaited
// are named as culprits.
func (s *Session) Run(ctx context.Context, tr Transport, progress func(Progress)) (res *Result, err error) {
	defer func() {
		if s.onEnd != nil {
			s.onEnd()
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	pumpDone := make(chan struct{})
	go func() { defer close(pumpDone); s.pump(ctx, tr, progress) }()
	defer func() {
		// On success the last round's messages may still be in flight and
		// the peers need them: let them go. On failure cut them short.
		close(s.out)
		if err != nil {
			cancel()
		}
		<-pumpDone
		cancel()
	}()

	if s.build != nil {
		if err := s.build(ctx); err != nil {
			s.Abort(err)
			return nil, err
		}
	}
	for _, k := range s.order {
		if err := s.safeStart(s.local[k]); err != nil {
			s.Abort(err)
			return nil, err
		}
	}
	finished := map[string]partyDone{}
	for len(finished) < len(s.order) {
		select {
		case in := <-s.inbox:
			s.dequeued(in.fromNode, in.queued)
			if err := s.process(in); err != nil {
				s.Abort(err)
				return nil, err
			}
		case d := <-s.done:
			finished[d.key] = d
		case <-s.abortCh:
			return nil, s.abortErr
		case <-ctx.Done():
			err := s.timeoutError(ctx.Err())
			s.Abort(err)
			return nil, err
		}
	}
	res, err = s.finish(finished)
	if err == nil && s.confirm != nil {
		err = s.confirmResult(ctx, tr, res)
	}
	if err != nil {
		s.Abort(err)
		return nil, err
	}
	return res, nil
}

func (s *Session) timeoutError(cause error) error {
	seen := map[string]bool{}
	var culprits []string
	for _, k := range s.order {
		for _, p := range s.local[k].WaitingFor() {
			n := s.owner[keyHex(p.Key)]
			if n != "" && !seen[n] && n != s.self {
				seen[n] = true
				culprits = append(culprits, n)
			}
		}
	}
	sort.Strings(culprits)
	return &SessionError{Reason: "deadline passed while waiting for peers", Culprits: culprits, Err: cause}
}

func (s *Session) safeStart(p tsslib.Party) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &SessionError{Reason: fmt.Sprintf("tss-lib panicked at start: %v", r), Err: ErrAborted}
		}
	}()
	if terr := p.Start(); terr != nil {
		return s.tssError(terr, "")
	}
	return nil
}

func (s *Session) process(in inbound) (err error) {
	fromPID := s.all[keyHex(in.env.From)]
	defer func() {
		if r := recover(); r != nil {
			err = &SessionError{Reason: fmt.Sprintf("message from %s made tss-lib panic: %v", in.fromNode, r), Culprits: []string{in.fromNode}, Err: ErrBadMessage}
		}
	}()
	if bytes.HasPrefix(in.env.Payload, confirmMagic) {
		return s.handleConfirm(in.fromNode, in.env.Payload)
	}
	parsed, perr := tsslib.ParseWireMessage(in.env.Payload, fromPID, in.env.Broadcast)
	if perr != nil {
		return &SessionError{Reason: fmt.Sprintf("malformed message from %s: %v", in.fromNode, perr), Culprits: []string{in.fromNode}, Err: ErrBadMessage}
	}
	if cerr := checkContent(parsed); cerr != nil {
		return &SessionError{Reason: fmt.Sprintf("hostile message from %s: %v", in.fromNode, cerr), Culprits: []string{in.fromNode}, Err: ErrBadMessage}
	}
	if in.env.Broadcast {
		s.transcript.add(in.env.From, parsed.Type(), in.env.Payload)
	}
	for _, to := range in.env.To {
		once := keyHex(in.env.From) + " " + parsed.Type() + " " + keyHex(to)
		if s.seen[once] {
			return &SessionError{Reason: fmt.Sprintf("%s sent a second %s to one party", in.fromNode, shortType(parsed.Type())), Culprits: []string{in.fromNode}, Err: ErrBadMessage}
		}
		s.seen[once] = true
	}
	for _, to := range in.env.To {
		p := s.local[keyHex(to)]
		ok, terr := p.UpdateFromBytes(in.env.Payload, fromPID, in.env.Broadcast)
		if terr != nil {
			return s.tssError(terr, in.fromNode)
		}
		if !ok {
			return &SessionError{Reason: fmt.Sprintf("message from %s does not belong to this protocol", in.fromNode), Culprits: []string{in.fromNode}, Err: ErrBadMessage}
		}
	}
	return nil
}

// shortType drops the package path of a tss-lib message type.
func shortType(typ string) string {
	if i := strings.LastIndex(typ, "."); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

// tssError names tss-lib's culprits, or the sender of the message that
// caused the error when tss-lib named none.
func (s *Session) tssError(terr *tsslib.Error, sender string) error {
	seen := map[string]bool{}
	var culprits []string
	for _, c := range terr.Culprits() {
		if c == nil {
			continue
		}
		n := s.owner[keyHex(c.Key)]
		if n != "" && !seen[n] {
			seen[n] = true
			culprits = append(culprits, n)
		}
	}
	if len(culprits) == 0 && sender != "" {
		culprits = []string{sender}
	}
	sort.Strings(culprits)
	return &SessionError{Reason: fmt.Sprintf("tss-lib %s round %d: %v", terr.Task(), terr.Round(), terr.Cause()), Culprits: culprits, Err: errors.Join(ErrAborted, terr)}
}
