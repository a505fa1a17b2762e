package tss

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
	"google.golang.org/protobuf/proto"
)

// The child side of TestHostilePeers: it runs the cases of plan.json and
// prints one fuzzReport line when a case starts and one when it ends, so
// that the parent knows which case a crash interrupted.

var fuzzNodes = []string{"n1", "n2", "n3"}

func TestHostilePeersChild(t *testing.T) {
	dir := os.Getenv(fuzzChildEnv)
	if dir == "" {
		t.Skip("runs as the child process of TestHostilePeers")
	}
	QuietLibrary()
	b, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var plan fuzzPlan
	if err := json.Unmarshal(b, &plan); err != nil {
		t.Fatal(err)
	}
	k := newFuzzKit(t, dir, plan)
	for _, c := range plan.Cases {
		if _, done := k.cache.Done[c.ID()]; done {
			continue // a probe ran it and reported
		}
		emitFuzz(fuzzReport{Case: c.ID(), Event: "start"})
		start := time.Now()
		verdict, detail := k.runCase(t, c)
		emitFuzz(fuzzReport{Case: c.ID(), Event: "end", Verdict: verdict, Detail: detail, Ms: time.Since(start).Milliseconds()})
	}
}

func emitFuzz(r fuzzReport) {
	b, _ := json.Marshal(r)
	fmt.Fprintf(os.Stdout, "%s%s\n", fuzzPrefix, b)
}

// fuzzCache is what the child keeps across restarts: the key an honest
// keygen made, and the first message of each type the hostile node sent
// in an honest run of each protocol.
type fuzzCache struct {
	Pub      []byte              `json:"pub"`
	Shares   map[string][]byte   `json:"shares"`
	Captured map[string]Envelope `json:"captured"` // proto/msg → envelope
	// Sample: the bounded mode's groups that already ran a case live
	Sample map[string]bool `json:"sample"`
	// Done: cases a probe ran, by ID
	Done map[string]fuzzReport `json:"done"`
}

type fuzzKit struct {
	dir   string
	plan  fuzzPlan
	pps   []*PreParams
	key   key
	cache fuzzCache
	runs  int
	// parsers: sessions of each protocol, never run, to decode with
	parsers map[string]*fuzzNet
}

func newFuzzKit(t *testing.T, dir string, plan fuzzPlan) *fuzzKit {
	k := &fuzzKit{dir: dir, plan: plan, pps: fixtures(t), parsers: map[string]*fuzzNet{}}
	if b, err := os.ReadFile(k.cachePath()); err == nil {
		if err := json.Unmarshal(b, &k.cache); err != nil {
			t.Fatal(err)
		}
	}
	need := map[string]bool{}
	for _, c := range plan.Cases {
		need[c.Proto] = true
	}
	if k.cache.Captured == nil {
		k.cache.Captured, k.cache.Sample, k.cache.Done = map[string]Envelope{}, map[string]bool{}, map[string]fuzzReport{}
	}
	// keygen's probe makes the key the other protocols use
	if k.cache.Shares == nil {
		k.probe(t, "keygen")
	}
	if k.cache.Shares != nil {
		k.key = key{id: "fuzz", threshold: 1, committee: fuzzNodes, shares: map[string]*Share{}, pub: k.cache.Pub}
		for n, b := range k.cache.Shares {
			sh, err := UnmarshalShare(b, k.cache.Pub)
			if err != nil {
				t.Fatal(err)
			}
			k.key.shares[n] = sh
		}
	}
	for _, p := range []string{"sign", "reshare"} {
		if need[p] && !k.probed(p) {
			k.probe(t, p)
		}
	}
	return k
}

func (k *fuzzKit) cachePath() string { return filepath.Join(k.dir, "cache.json") }

func (k *fuzzKit) save(t *testing.T) {
	b, err := json.Marshal(k.cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.cachePath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (k *fuzzKit) probed(p string) bool {
	for name := range k.cache.Captured {
		if strings.HasPrefix(name, p+"/") {
			return true
		}
	}
	return false
}

// probe captures the hostile node's messages in a run of p. Keygen's
// probe is honest and keeps the key. In the bounded mode resharing's is
// its anchor case, which mutates only its last message: the run captures
// every other message, and the messages it mutates before the mutation.
func (k *fuzzKit) probe(t *testing.T, p string) {
	if a, ok := k.anchor(p); ok && p == "reshare" && !k.plan.Long && !k.plan.Dry {
		emitFuzz(fuzzReport{Case: a.ID(), Event: "start"})
		start := time.Now()
		r := fuzzReport{Case: a.ID(), Event: "end"}
		r.Verdict, r.Detail = k.live(t, a, true)
		r.Ms = time.Since(start).Milliseconds()
		emitFuzz(r)
		k.cache.Done[a.ID()] = r
		k.cache.Sample[p+" anchor"] = true
		k.save(t)
		return
	}
	net, check := k.sessions(t, p, "probe")
	net.rewrite = k.capture(p, net, nil)
	out := net.run(fuzzTimeout(p))
	for _, n := range fuzzNodes {
		if out[n].err != nil {
			t.Fatalf("honest %s probe on %s: %v", p, n, out[n].err)
		}
	}
	if err := check(out); err != nil {
		t.Fatalf("honest %s probe: %v", p, err)
	}
	if p == "keygen" {
		k.cache.Shares = map[string][]byte{}
		for _, n := range fuzzNodes {
			b, err := MarshalShare(out[n].res.Share)
			if err != nil {
				t.Fatal(err)
			}
			k.cache.Shares[n] = b
		}
		k.cache.Pub, _ = CompressedPubKey(out["n1"].res.PublicKey)
	}
	k.save(t)
}

// capture returns a rewrite that records the first message of each type
// the hostile node sends, then applies next.
func (k *fuzzKit) capture(p string, net *fuzzNet, next func(string, Envelope) Envelope) func(string, Envelope) Envelope {
	var mu sync.Mutex
	return func(to string, env Envelope) Envelope {
		if content, _, err := net.parse(env); err == nil { // else keygen's confirmation
			mu.Lock()
			name := p + "/" + msgName(content)
			if _, ok := k.cache.Captured[name]; !ok {
				k.cache.Captured[name] = env
			}
			mu.Unlock()
		}
		if next != nil {
			return next(to, env)
		}
		return env
	}
}

// anchor is the case of p the bounded mode runs live: plus1 in the first
// element of the first field of its last message with fields, which runs
// the most rounds.
func (k *fuzzKit) anchor(p string) (fuzzCase, bool) {
	for _, fp := range fuzzProtocols {
		if fp.name != p {
			continue
		}
		for i := len(fp.msgs) - 1; i >= 0; i-- {
			fds := fuzzFields(fp.msgs[i])
			if len(fds) == 0 {
				continue
			}
			c := fuzzCase{Proto: p, Msg: msgName(fp.msgs[i]), Field: string(fds[0].Name()), Value: "plus1"}
			if fds[0].IsList() {
				c.Elem = "first"
			}
			return c, slices.Contains(k.plan.Cases, c)
		}
	}
	return fuzzCase{}, false
}

func fuzzTimeout(p string) time.Duration {
	if p == "sign" {
		return time.Minute
	}
	return 2 * time.Minute
}

// sessions builds the sessions of one run of p: keygen 2-of-3, signing by
// n1 and n3, resharing {n1,n2,n3} t=1 → {n1,n2,n3} t=1, with
// fuzzHostileOf(p) hostile. check tells whether the honest nodes that all
// finished agree.
func (k *fuzzKit) sessions(t *testing.T, p, tag string) (*fuzzNet, func(map[string]outcome) error) {
	k.runs++
	sid := fmt.Appendf(nil, "fuzz-%s-%s-%d", p, tag, k.runs)
	hostile := fuzzHostileOf(p)
	net := &fuzzNet{sessions: map[string]*Session{}, hostile: hostile}
	// agree: the honest nodes that finished hold want (when set) and the
	// same key
	agree := func(out map[string]outcome, want []byte) error {
		for n, o := range out {
			if n == hostile || o.err != nil {
				continue
			}
			got, _ := CompressedPubKey(o.res.PublicKey)
			if want != nil && !bytes.Equal(got, want) {
				return fmt.Errorf("%s ended with another public key", n)
			}
			want = got
		}
		return nil
	}
	switch p {
	case "keygen":
		for i, n := range fuzzNodes {
			s, err := NewKeygen(KeygenConfig{SessionID: sid, Cluster: "test", Self: n, KeyID: "fuzz", Threshold: 1, Nodes: fuzzNodes,
				PreParams: k.pps[i], Confirm: testConfirmer{n}, Log: discard})
			if err != nil {
				t.Fatal(err)
			}
			net.sessions[n] = s
		}
		return net, func(out map[string]outcome) error { return agree(out, nil) }
	case "sign":
		signers := []string{"n1", "n3"}
		d := sha256.Sum256(sid)
		for _, n := range signers {
			s, err := NewSign(SignConfig{SessionID: sid, Cluster: "test", Self: n, KeyID: "fuzz", Threshold: 1, Committee: fuzzNodes,
				Signers: signers, Share: copyShare(t, k.key.shares[n]), ChainCode: ChainCode(k.key.pub), Digest: d, Log: discard})
			if err != nil {
				t.Fatal(err)
			}
			net.sessions[n] = s
		}
		// the session verifies the signature itself
		return net, func(out map[string]outcome) error { return agree(out, k.key.pub) }
	case "reshare":
		for i, n := range fuzzNodes {
			s, err := NewReshare(ReshareConfig{SessionID: sid, Cluster: "test", Self: n, KeyID: "fuzz", OldThreshold: 1,
				OldCommittee: fuzzNodes, OldSigners: fuzzNodes, NewNodes: fuzzNodes, NewThreshold: 1,
				Share: copyShare(t, k.key.shares[n]), PreParams: k.pps[3+i], Log: discard})
			if err != nil {
				t.Fatal(err)
			}
			net.sessions[n] = s
		}
		return net, func(out map[string]outcome) error { return agree(out, k.key.pub) }
	}
	t.Fatalf("unknown protocol %s", p)
	return nil, nil
}

// senderN is the Paillier modulus of the hostile party that sent env.
func (k *fuzzKit) senderN(p string, env Envelope) *big.Int {
	h := fuzzHostileOf(p)
	i := slices.Index(fuzzNodes, h)
	if p == "reshare" && bytes.Equal(env.From, PartyKey("fuzz", 1, h).Bytes()) {
		i += 3 // its new-committee party
	}
	return k.pps[i].PaillierSK.N
}

func (k *fuzzKit) valueCtx(c fuzzCase, env Envelope) valueCtx {
	vc := valueCtx{n: k.senderN(c.Proto, env), room: MaxPayload - len(env.Payload) - 4096, seed: c.ID(), positions: fuzzPositions}
	if k.plan.Long {
		vc.positions = fuzzLongPositions()
	}
	return vc
}

// runCase judges one case: at the boundary on the captured message, then,
// if it passes or is sampled, live.
func (k *fuzzKit) runCase(t *testing.T, c fuzzCase) (verdict, detail string) {
	env, ok := k.cache.Captured[c.Proto+"/"+c.Msg]
	if !ok {
		return vUnseen, "the honest run sent no " + c.Msg
	}
	applied, refused := k.boundary(t, c, env)
	if !applied {
		return vNA, ""
	}
	if k.plan.Dry || !k.plan.LiveAll && !(k.plan.Long && refused == "") && !k.sampled(t, c, refused != "") {
		if refused != "" {
			return vBoundary, refused
		}
		return vSampled, ""
	}
	return k.live(t, c, false)
}

// sampled picks the bounded mode's live cases: the first refused case of
// each protocol; of those that pass the boundary, the first of each
// signing message (a run takes under a second) and the anchor of keygen
// and resharing (5–15 s).
func (k *fuzzKit) sampled(t *testing.T, c fuzzCase, refused bool) bool {
	group := c.Proto + "/" + c.Msg
	switch {
	case refused:
		group = c.Proto + " refused"
	case c.Proto != "sign":
		if a, ok := k.anchor(c.Proto); !ok || a != c {
			return false
		}
		group = c.Proto + " anchor"
	}
	if k.cache.Sample[group] {
		return false
	}
	k.cache.Sample[group] = true
	k.save(t)
	return true
}

// boundary offers the mutated message to the receive path before tss-lib
// (size, decoding, checkContent), as Session.process does.
func (k *fuzzKit) boundary(t *testing.T, c fuzzCase, env Envelope) (applied bool, refused string) {
	net := k.parsers[c.Proto]
	if net == nil {
		net, _ = k.sessions(t, c.Proto, "boundary")
		k.parsers[c.Proto] = net
	}
	content, pid, err := net.parse(env)
	if err != nil {
		t.Fatalf("%s: parse captured message: %v", c.ID(), err)
	}
	vc := k.valueCtx(c, env)
	if !mutate(content, c, vc) {
		return false, ""
	}
	wire, err := encodeContent(pid, env.Broadcast, content)
	if err != nil {
		return true, "cannot encode: " + err.Error()
	}
	if len(wire) > MaxPayload {
		return true, fmt.Sprintf("oversized (%d bytes)", len(wire))
	}
	parsed, err := tsslib.ParseWireMessage(wire, pid, env.Broadcast)
	if err != nil {
		return true, "malformed: " + err.Error()
	}
	if err := checkContent(parsed); err != nil {
		return true, err.Error()
	}
	return true, ""
}

// live runs the protocol with the mutation applied to every message of
// type c.Msg the hostile node sends to another node; with capture, it
// also records the hostile node's messages as they were before.
func (k *fuzzKit) live(t *testing.T, c fuzzCase, capture bool) (verdict, detail string) {
	net, check := k.sessions(t, c.Proto, "live")
	var mu sync.Mutex
	applied := false
	net.rewrite = func(_ string, env Envelope) Envelope {
		content, pid, err := net.parse(env)
		if err != nil || msgName(content) != c.Msg {
			return env
		}
		vc := k.valueCtx(c, env)
		if !mutate(content, c, vc) {
			return env
		}
		wire, err := encodeContent(pid, env.Broadcast, content)
		if err != nil {
			return env
		}
		mu.Lock()
		applied = true
		mu.Unlock()
		env.Payload = wire
		return env
	}
	if capture {
		net.rewrite = k.capture(c.Proto, net, net.rewrite)
	}
	out := net.run(fuzzTimeout(c.Proto))
	mu.Lock()
	defer mu.Unlock()
	if !applied {
		return vUnseen, "the hostile node sent no " + c.Msg + " the mutation applies to"
	}
	return judgeFuzz(out, net.hostile, check)
}

// judgeFuzz: the honest nodes either all finished and agree, or at least
// one failed naming the hostile node; none names an honest node, none
// waited out its deadline.
func judgeFuzz(out map[string]outcome, hostile string, check func(map[string]outcome) error) (verdict, detail string) {
	named := ""
	var failed []string
	for _, n := range fuzzNodes {
		o, ok := out[n]
		if !ok || n == hostile || o.err == nil {
			continue
		}
		failed = append(failed, fmt.Sprintf("%s: %v", n, o.err))
		if errors.Is(o.err, context.DeadlineExceeded) {
			return vBad, fmt.Sprintf("%s hung until its deadline: %v", n, o.err)
		}
		cs := culprits(o.err)
		for _, c := range cs {
			if c != hostile {
				return vBad, fmt.Sprintf("honest %s named %s: %v", n, c, o.err)
			}
		}
		if slices.Equal(cs, []string{hostile}) && named == "" {
			named = fmt.Sprintf("%s: %v", n, o.err)
		}
	}
	if len(failed) == 0 {
		if err := check(out); err != nil {
			return vBad, err.Error()
		}
		return vHarmless, ""
	}
	if named == "" {
		if confirmed := slices.ContainsFunc(failed, func(f string) bool { return strings.Contains(f, "keygen outcome differs") }); confirmed {
			// keygen's confirmation round: the hostile node's transcript
			// holds what it sent, the honest ones what they got; no key
			// is stored and no one can be named
			return vUnconfirmed, clip(strings.Join(failed, "; "), 400)
		}
		return vBad, fmt.Sprintf("no honest node named %s: %v", hostile, failed)
	}
	if strings.Contains(named, "made tss-lib panic") {
		return vRecovered, clip(named, 400)
	}
	return vRejected, clip(named, 400)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// fuzzNet routes envelopes between the sessions of one run, rewriting what
// the hostile node sends. Like the peer transport it tells a sender when
// the receiver had already aborted (ErrPeerAborted), and like the node it
// tells every other session when one fails (broadcastAbort).
type fuzzNet struct {
	sessions map[string]*Session
	hostile  string
	rewrite  func(to string, env Envelope) Envelope // called concurrently
}

type fuzzTransport struct {
	net  *fuzzNet
	from string
}

func (t fuzzTransport) Send(_ context.Context, node string, env Envelope) error {
	s, ok := t.net.sessions[node]
	if !ok {
		return fmt.Errorf("no session on %s", node)
	}
	if t.from == t.net.hostile && t.net.rewrite != nil {
		env = t.net.rewrite(node, env)
	}
	err := s.Deliver(t.from, env)
	var se *SessionError
	if err != nil && !errors.As(err, &se) && errors.Is(err, ErrAborted) {
		return fmt.Errorf("%w: %v", ErrPeerAborted, err)
	}
	return err
}

// parse decodes an envelope as its receivers do.
func (f *fuzzNet) parse(env Envelope) (tsslib.MessageContent, *tsslib.PartyID, error) {
	for _, s := range f.sessions {
		pid := s.all[keyHex(env.From)]
		if pid == nil {
			return nil, nil, fmt.Errorf("unknown sender party")
		}
		msg, err := tsslib.ParseWireMessage(env.Payload, pid, env.Broadcast)
		if err != nil {
			return nil, nil, err
		}
		return proto.Clone(msg.Content()).(tsslib.MessageContent), pid, nil
	}
	return nil, nil, fmt.Errorf("no sessions")
}

// run runs every session until each has ended; a session that fails makes
// the others abort, as the node's abort broadcast does.
func (f *fuzzNet) run(timeout time.Duration) map[string]outcome {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan outcome, len(f.sessions))
	for n, s := range f.sessions {
		go func() {
			res, err := s.Run(ctx, fuzzTransport{net: f, from: n}, nil)
			ch <- outcome{node: n, res: res, err: err}
		}()
	}
	out := map[string]outcome{}
	for len(out) < len(f.sessions) {
		o := <-ch
		out[o.node] = o
		if o.err == nil {
			continue
		}
		for n, s := range f.sessions {
			if _, done := out[n]; !done {
				s.Abort(&SessionError{Reason: o.node + " aborted the session", Err: ErrAborted})
			}
		}
	}
	return out
}
