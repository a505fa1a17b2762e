package signer

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
	"github.com/cofferhq/coffer/signer/api"
	"github.com/cofferhq/coffer/signer/gate"
	"github.com/cofferhq/coffer/signer/peer"
	"github.com/cofferhq/coffer/signer/replica"
	ctss "github.com/cofferhq/coffer/signer/tss"
	"github.com/cofferhq/coffer/signer/workflow"
)

// Deps are the node's collaborators, opened by the caller.
type Deps struct {
	Keystore hsm.Keystore
	Store    *ledger.Store
	Log      *slog.Logger
}

// Node is one Coffer signer.
type Node struct {
	cfg       *Config
	log       *slog.Logger
	ks        hsm.Keystore
	store     *ledger.Store
	creds     peer.Credentials // peer transport: its TLS key, the CA, revocations
	raftCreds peer.Credentials // the raft listener's
	keys      tlsKeys
	revoked   *revocations
	members   peer.Membership
	client    *peer.Client
	now       func() time.Time

	mu       sync.Mutex
	sessions map[string]*entry

	polMu   sync.Mutex
	history *policy.History
	pv      *gate.PolicyView

	audit *audit.Log

	gate *gate.Gate // builds, decides and reserves transfers
	rep  *replica.Replica
	flow *workflow.Workflow // this node's home transfers
}

// New builds a node. It checks that the HSM identity key is the one the
// certificate and the membership name, so a node never starts with
// someone else's identity, and has it endorse one software TLS key per
// listener (the only HSM operations TLS costs).
func New(cfg *Config, d Deps) (*Node, error) {
	switch {
	case cfg == nil:
		return nil, errors.New("new node: missing config")
	case d.Keystore == nil:
		return nil, errors.New("new node: missing keystore")
	case d.Store == nil:
		return nil, errors.New("new node: missing store")
	case d.Log == nil:
		return nil, errors.New("new node: missing logger")
	case !ctss.ConstantTime():
		// DESIGN.md §3: no share or pre-parameter in variable-time arithmetic
		return nil, fmt.Errorf("new node: %w", ctss.ErrVariableTime)
	}
	n := &Node{cfg: cfg, ks: d.Keystore, store: d.Store, now: time.Now,
		log: d.Log.With("component", "node", "node", cfg.Node), sessions: map[string]*entry{}}
	if off, err := devClockOffset(); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	} else if off != 0 {
		n.now = func() time.Time { return time.Now().Add(off) }
		n.log.Warn("DEVELOPMENT BUILD: the policy clock runs ahead of the system clock", "offset", off)
	}
	members := peer.Membership{}
	for _, m := range cfg.Members {
		k, _ := hex.DecodeString(m.IdentityKey)
		members[m.ID] = peer.Member{ID: m.ID, Address: m.Peer, IdentityKey: ed25519.PublicKey(k)}
	}
	n.members = members
	var err error
	n.gate, err = gate.New(gate.Config{Store: d.Store, Log: n.log, Now: func() time.Time { return n.now() },
		Propose: n.propose, SessionTimeout: time.Duration(cfg.Sessions.Timeout)})
	if err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	if n.flow, err = n.newWorkflow(); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	ca, err := readCert(cfg.TLS.CA)
	if err != nil {
		return nil, fmt.Errorf("new node: CA: %w", err)
	}
	cert, err := readCert(cfg.TLS.Cert)
	if err != nil {
		return nil, fmt.Errorf("new node: certificate: %w", err)
	}
	hsmPub, ok := d.Keystore.Identity().Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("new node: HSM identity key is not Ed25519")
	}
	if certPub, ok := cert.PublicKey.(ed25519.PublicKey); !ok || !certPub.Equal(hsmPub) {
		return nil, fmt.Errorf("new node: certificate %s does not hold the HSM identity key of %s", cfg.TLS.Cert, cfg.HSM.Describe())
	}
	if !members[cfg.Node].IdentityKey.Equal(hsmPub) {
		return nil, fmt.Errorf("new node: members lists another identity key for %s than the HSM holds", cfg.Node)
	}
	if id, err := pki.IdentityOf(cert); err != nil || id.Name != cfg.Node || id.Role != pki.RoleNode {
		return nil, fmt.Errorf("new node: certificate %s is not a node certificate for %s", cfg.TLS.Cert, cfg.Node)
	}
	if n.history, err = loadPolicy(cfg, n.genesisAt()); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	if n.history != nil {
		if err := n.replayPolicies(); err != nil {
			return nil, fmt.Errorf("new node: %w", err)
		}
	}
	peers, err := auditPeerKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	if n.audit, err = audit.New(audit.Config{Cluster: cfg.Cluster, Node: cfg.Node, Peers: peers}, audit.Deps{DB: d.Store.DB(), Identity: d.Keystore.Identity(), Logger: d.Log}); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	if err := n.logGenesis(context.Background()); err != nil {
		return nil, fmt.Errorf("new node: log genesis policy: %w", err)
	}
	n.revoked = &revocations{}
	if err := n.ReloadRevocations(cfg); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	if n.keys, err = n.newTLSKeys(cert); err != nil {
		return nil, fmt.Errorf("new node: %w", err)
	}
	n.creds = peer.Credentials{Key: n.keys.peer, CA: ca, Revoked: n.revoked}
	n.raftCreds = peer.Credentials{Key: n.keys.raft, CA: ca, Revoked: n.revoked}
	if n.client, err = peer.NewClient(n.creds, members); err != nil {
		return nil, err
	}
	return n, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return pki.ParseCertPEM(b)
}

// Run serves the peer protocol and the client API until ctx ends, and
// keeps the pre-parameter pool filled.
func (n *Node) Run(ctx context.Context) error {
	peerLis, err := net.Listen("tcp", n.cfg.Listen.Peer)
	if err != nil {
		return fmt.Errorf("listen peer %s: %w", n.cfg.Listen.Peer, err)
	}
	if peerLis, err = n.limit(peerLis, "peer"); err != nil {
		return err
	}
	if err := n.checkShares(ctx); err != nil {
		_ = peerLis.Close()
		return err
	}
	if err := n.startReplica(); err != nil {
		_ = peerLis.Close()
		return fmt.Errorf("start replication: %w", err)
	}
	apiLis, err := net.Listen("tcp", n.cfg.Listen.API)
	if err != nil {
		_ = peerLis.Close()
		return fmt.Errorf("listen api %s: %w", n.cfg.Listen.API, err)
	}
	if apiLis, err = n.limit(apiLis, "api"); err != nil {
		_ = peerLis.Close()
		return err
	}
	ps, err := peer.NewServer(n.creds, n.members, n, n.log)
	if err != nil {
		return err
	}
	apiSrv, err := api.NewServer(n.keys.api, n.creds.CA, n.apiDeps())
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ps.Serve(peerLis) })
	g.Go(func() error { return apiSrv.Serve(apiLis) })
	g.Go(func() error { return n.fillPool(gctx) })
	g.Go(func() error { n.reap(gctx); return nil })
	g.Go(func() error { n.flow.Schedule(gctx); return nil })
	g.Go(func() error { n.cosignLoop(gctx); return nil })
	g.Go(func() error { n.keys.run(gctx); return nil })
	g.Go(func() error {
		<-gctx.Done()
		stopped := make(chan struct{})
		go func() { ps.Stop(); apiSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			ps.Kill()
			apiSrv.Stop()
		}
		return nil
	})
	n.log.Info("node serving", "peer", n.cfg.Listen.Peer, "api", n.cfg.Listen.API, "tss", ctss.Library(), "tss_constant_time", ctss.ConstantTime())
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Close releases the peer connections and the audit log's committer (the
// caller closes HSM and store).
func (n *Node) Close() error {
	var err error
	if n.rep != nil {
		err = n.rep.Close()
	}
	return errors.Join(err, n.client.Close(), n.audit.Close())
}
