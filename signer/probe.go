package signer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/gate"
	"github.com/cofferhq/coffer/signer/workflow"
)

// Probe runs a stopped node's own decision and scheduling code on its own
// store, for `coffer bench history`: the gate (with its spend book),
// policy history and workflow are built as the node builds them at
// start, but there is no network, no replicated log and no audit log.
// Nothing a probe does is written: a look that would change a request
// fails to propose and changes nothing.
type Probe struct {
	n     *Node
	flow  *workflow.Workflow
	built map[string]*gate.Built // by request, for the policy view built
	pv    *gate.PolicyView
}

var errProbeReadOnly = errors.New("probe: read-only, nothing is proposed")

// OpenProbe builds a probe over a stopped node's config and store.
func OpenProbe(cfg *Config, d Deps) (*Probe, error) {
	n := &Node{cfg: cfg, ks: d.Keystore, store: d.Store, log: d.Log, now: time.Now}
	readOnly := func(context.Context, ledger.Command) (ledger.Transfer, error) {
		return ledger.Transfer{}, errProbeReadOnly
	}
	var err error
	if n.gate, err = gate.New(gate.Config{Store: d.Store, Log: d.Log, Now: time.Now, Propose: readOnly,
		SessionTimeout: time.Duration(cfg.Sessions.Timeout)}); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if n.history, err = loadPolicy(cfg, n.genesisAt()); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	// not replayPolicies: recording first sight of whitelist entries would
	// write to the node's store (and start their activation delays early)
	if err := n.replayHistory(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	flow, err := workflow.New(workflow.Config{
		Node: cfg.Node, Store: d.Store, Gate: n.gate, Log: d.Log, Now: time.Now,
		SessionTimeout: time.Duration(cfg.Sessions.Timeout),
		Policy:         n.activePolicy,
		Propose:        readOnly,
		Applied:        func() uint64 { return 0 },
		Coordinate:     func(context.Context, *peerpb.SessionSpec) error { return errProbeReadOnly },
		Audit:          probeAuditor{},
	})
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return &Probe{n: n, flow: flow, built: map[string]*gate.Built{}}, nil
}

// Decide times one gate decision about request id as a node makes it
// before signing: the request read from the ledger, then the gate's
// decision (limit totals from the spend book, whitelist activations,
// policy.Evaluate). The transaction is built once per request, outside
// the clock (building is the same work whatever the history, and its
// garbage would land in the decisions timed after it).
func (p *Probe) Decide(id string) (time.Duration, policy.Decision, error) {
	now := time.Now()
	pv, err := p.n.activePolicy(now)
	if err != nil {
		return 0, policy.Decision{}, err
	}
	if pv != p.pv {
		p.pv, p.built = pv, map[string]*gate.Built{}
	}
	b, ok := p.built[id]
	if !ok {
		t, err := p.n.store.Transfer(id)
		if err != nil {
			return 0, policy.Decision{}, err
		}
		if b, err = p.n.gate.Rebuild(pv, t); err != nil {
			return 0, policy.Decision{}, err
		}
		p.built[id] = b
	}
	start := time.Now()
	t, err := p.n.store.Transfer(id)
	if err != nil {
		return 0, policy.Decision{}, err
	}
	d, _, err := p.n.gate.Decide(pv, b, t, now)
	return time.Since(start), d, err
}

// Pass times one scheduler pass that looks at every open request of the
// node (the most a pass ever does) and returns how many it looked at.
func (p *Probe) Pass(ctx context.Context) (time.Duration, int) {
	start := time.Now()
	n := p.flow.PassAll(ctx, time.Now())
	return time.Since(start), n
}

// probeAuditor drops what the workflow would log: a probe writes nothing.
type probeAuditor struct{}

func (probeAuditor) Append(context.Context, []audit.Record) error { return errProbeReadOnly }
func (probeAuditor) Log(context.Context, audit.Record)            {}
