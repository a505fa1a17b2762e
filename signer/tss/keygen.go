package tss

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// KeygenRounds is the number of keygen rounds reported in progress.
const KeygenRounds = 3

// KeygenConfig describes this node's part in a distributed keygen.
type KeygenConfig struct {
	SessionID []byte
	Cluster   string // binds the session nonce
	Self      string
	KeyID     string
	Threshold int      // t: any t+1 parties sign
	Nodes     []string // the committee
	PreParams *PreParams
	// TakePreParams, when PreParams is nil, takes them when the session
	// runs: a prepared session that never runs drains no pool.
	TakePreParams func(context.Context) (*PreParams, error)
	// Confirm signs and checks the parties' confirmations of the result:
	// the key is returned only when every party confirmed the same key
	// and the same broadcasts.
	Confirm Confirmer
	Log     *slog.Logger
}

// NewKeygen prepares a keygen session (generation 0 of the key).
func NewKeygen(cfg KeygenConfig) (*Session, error) {
	if err := requireConstantTime("keygen " + cfg.KeyID); err != nil {
		return nil, err
	}
	if cfg.Cluster == "" || len(cfg.SessionID) == 0 {
		return nil, fmt.Errorf("keygen %s: %w: cluster and session ID bind the session nonce", cfg.KeyID, ErrBadSpec)
	}
	if cfg.Threshold < 1 || cfg.Threshold+1 > len(cfg.Nodes) {
		return nil, fmt.Errorf("keygen %s: %w: threshold %d with %d parties", cfg.KeyID, ErrBadSpec, cfg.Threshold, len(cfg.Nodes))
	}
	if cfg.Confirm == nil {
		return nil, fmt.Errorf("keygen %s: %w: no confirmer", cfg.KeyID, ErrBadSpec)
	}
	if cfg.PreParams == nil && cfg.TakePreParams == nil {
		return nil, fmt.Errorf("keygen %s: %w", cfg.KeyID, ErrBadPreParams)
	}
	parties, err := Committee(cfg.KeyID, 0, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	ps := newPartySet(parties)
	me, ok := ps.find(cfg.Self)
	if !ok {
		return nil, fmt.Errorf("keygen %s: %w: %s is not in the committee", cfg.KeyID, ErrBadSpec, cfg.Self)
	}
	s := newSession(cfg.SessionID, cfg.Self, KeygenRounds, cfg.Log)
	s.addCommittee(ps)
	key := keyHex(me.Key)
	s.expect(key)
	s.confirm = &confirmer{cluster: cfg.Cluster, keyID: cfg.KeyID, c: cfg.Confirm, nodes: s.Nodes(), got: map[string]Confirmation{}}
	build := func(pp *PreParams) error {
		if pp == nil || !pp.ValidateWithProof() {
			return fmt.Errorf("keygen %s: %w", cfg.KeyID, ErrBadPreParams)
		}
		params := tsslib.NewParameters(tsslib.S256(), tsslib.NewPeerContext(ps.sorted), me, len(ps.sorted), cfg.Threshold)
		params.SetSessionNonce(KeygenNonce(cfg.Cluster, cfg.KeyID, cfg.SessionID, cfg.Threshold, cfg.Nodes))
		end := make(chan *keygen.LocalPartySaveData, 1)
		s.local[key] = keygen.NewLocalParty(params, s.out, end, pp.LocalPreParams)
		go forwardSave(s, key, end)
		return nil
	}
	if cfg.PreParams != nil {
		if err := build(cfg.PreParams); err != nil {
			return nil, err
		}
	} else {
		s.build = func(ctx context.Context) error {
			pp, err := cfg.TakePreParams(ctx)
			if err != nil {
				return fmt.Errorf("keygen %s: pre-parameters: %w", cfg.KeyID, err)
			}
			if err := build(pp); err != nil {
				ZeroPreParams(pp)
				return err
			}
			return nil
		}
	}
	s.finish = func(done map[string]partyDone) (*Result, error) {
		save := done[key].save
		if save == nil || save.Xi == nil {
			return nil, fmt.Errorf("keygen %s: %w: no share produced", cfg.KeyID, ErrAborted)
		}
		sh := &Share{Data: *save}
		return &Result{PublicKey: sh.PublicKey(), Share: sh}, nil
	}
	return s, nil
}

func forwardSave(s *Session, key string, end <-chan *keygen.LocalPartySaveData) {
	select {
	case save := <-end:
		s.done <- partyDone{key: key, save: save}
	case <-s.abortCh:
	}
}
