package tss

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/resharing"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// ReshareRounds is the number of resharing rounds reported in progress.
const ReshareRounds = 4

// ReshareConfig describes this node's part in a reshare from generation g
// (old committee) to g+1 (new committee). A node may sit in both.
type ReshareConfig struct {
	SessionID     []byte
	Cluster       string // binds the session nonce
	Self          string
	KeyID         string
	OldGeneration uint32
	OldThreshold  int
	OldCommittee  []string // the key's whole current committee
	OldSigners    []string // the old parties taking part (≥ t+1)
	NewNodes      []string
	NewThreshold  int
	Share         *Share     // when Self is an old signer; zeroed at the end
	PreParams     *PreParams // when Self is in the new committee
	// OpenShare and TakePreParams, when Share or PreParams is nil, take
	// them when the session runs: a prepared reshare that never runs
	// unseals nothing and drains no pool.
	OpenShare     func(context.Context) (*Share, error)
	TakePreParams func(context.Context) (*PreParams, error)
	Log           *slog.Logger
}

// NewReshare prepares a resharing session.
func NewReshare(cfg ReshareConfig) (*Session, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("reshare %s: %w: %s", cfg.KeyID, ErrBadSpec, fmt.Sprintf(format, a...))
	}
	if err := requireConstantTime("reshare " + cfg.KeyID); err != nil {
		return nil, err
	}
	if cfg.Cluster == "" || len(cfg.SessionID) == 0 {
		return nil, bad("cluster and session ID bind the session nonce")
	}
	if len(cfg.OldSigners) < cfg.OldThreshold+1 {
		return nil, bad("%d old parties, threshold needs %d", len(cfg.OldSigners), cfg.OldThreshold+1)
	}
	if cfg.NewThreshold < 1 || cfg.NewThreshold+1 > len(cfg.NewNodes) {
		return nil, bad("new threshold %d with %d parties", cfg.NewThreshold, len(cfg.NewNodes))
	}
	inOld := map[string]bool{}
	for _, n := range cfg.OldCommittee {
		inOld[n] = true
	}
	for _, n := range cfg.OldSigners {
		if !inOld[n] {
			return nil, bad("%s is not in the current committee", n)
		}
	}
	oldParties, err := Committee(cfg.KeyID, cfg.OldGeneration, cfg.OldSigners)
	if err != nil {
		return nil, err
	}
	newParties, err := Committee(cfg.KeyID, cfg.OldGeneration+1, cfg.NewNodes)
	if err != nil {
		return nil, err
	}
	oldSet, newSet := newPartySet(oldParties), newPartySet(newParties)
	meOld, isOld := oldSet.find(cfg.Self)
	meNew, isNew := newSet.find(cfg.Self)
	if !isOld && !isNew {
		return nil, bad("%s takes no part", cfg.Self)
	}
	s := newSession(cfg.SessionID, cfg.Self, ReshareRounds, cfg.Log)
	s.addCommittee(oldSet)
	s.addCommittee(newSet)
	ec := tsslib.S256()
	oldCtx, newCtx := tsslib.NewPeerContext(oldSet.sorted), tsslib.NewPeerContext(newSet.sorted)
	nOld, nNew := len(oldSet.sorted), len(newSet.sorted)
	// tss-lib checks the nonce through the old parties' SSIDs: new parties
	// adopt the old committee's SSID and check they all sent the same.
	nonce := ReshareNonce(cfg.Cluster, cfg.KeyID, cfg.OldGeneration, cfg.SessionID, cfg.OldThreshold, cfg.OldSigners, cfg.NewThreshold, cfg.NewNodes)
	var newKey, oldKey string
	var share *Share
	if isNew {
		newKey = keyHex(meNew.Key)
		s.expect(newKey)
	}
	if isOld {
		oldKey = keyHex(meOld.Key)
		s.expect(oldKey)
	}
	buildNew := func(pp *PreParams) error {
		if pp == nil || !pp.ValidateWithProof() {
			return fmt.Errorf("reshare %s: %w", cfg.KeyID, ErrBadPreParams)
		}
		params := tsslib.NewReSharingParameters(ec, oldCtx, newCtx, meNew, nOld, cfg.OldThreshold, nNew, cfg.NewThreshold)
		params.SetSessionNonce(nonce)
		save := keygen.NewLocalPartySaveData(nNew)
		save.LocalPreParams = pp.LocalPreParams
		end := make(chan *keygen.LocalPartySaveData, 1)
		s.local[newKey] = resharing.NewLocalParty(params, save, s.out, end)
		go forwardSave(s, newKey, end)
		return nil
	}
	buildOld := func(sh *Share) error {
		share = sh
		s.onEnd = sh.Zero
		if sh.Data.ShareID.Cmp(meOld.KeyInt()) != 0 {
			return fmt.Errorf("reshare %s: %w: share belongs to another party or generation", cfg.KeyID, ErrBadShare)
		}
		if err := sh.holds(oldParties); err != nil {
			return fmt.Errorf("reshare %s: %w", cfg.KeyID, err)
		}
		params := tsslib.NewReSharingParameters(ec, oldCtx, newCtx, meOld, nOld, cfg.OldThreshold, nNew, cfg.NewThreshold)
		params.SetSessionNonce(nonce)
		end := make(chan *keygen.LocalPartySaveData, 1)
		s.local[oldKey] = resharing.NewLocalParty(params, sh.Data, s.out, end)
		go forwardSave(s, oldKey, end)
		return nil
	}
	lazyNew := isNew && cfg.PreParams == nil
	lazyOld := isOld && cfg.Share == nil
	if (lazyNew && cfg.TakePreParams == nil) || (lazyOld && cfg.OpenShare == nil) {
		return nil, fmt.Errorf("reshare %s: %w", cfg.KeyID, ErrBadSpec)
	}
	if isNew && !lazyNew {
		if err := buildNew(cfg.PreParams); err != nil {
			return nil, err
		}
	}
	if isOld && !lazyOld {
		if err := buildOld(cfg.Share); err != nil {
			return nil, err
		}
	}
	if lazyNew || lazyOld {
		s.build = func(ctx context.Context) (err error) {
			var pp *PreParams
			defer func() {
				if err != nil {
					ZeroPreParams(pp)
				}
			}()
			if lazyNew {
				if pp, err = cfg.TakePreParams(ctx); err != nil {
					return fmt.Errorf("reshare %s: pre-parameters: %w", cfg.KeyID, err)
				}
				if err := buildNew(pp); err != nil {
					return err
				}
			}
			if lazyOld {
				sh, err := cfg.OpenShare(ctx)
				if err != nil {
					return fmt.Errorf("reshare %s: open share: %w", cfg.KeyID, err)
				}
				return buildOld(sh)
			}
			return nil
		}
	}
	s.finish = func(done map[string]partyDone) (*Result, error) {
		if !isNew {
			return &Result{PublicKey: share.PublicKey()}, nil
		}
		save := done[newKey].save
		if save == nil || save.Xi == nil {
			return nil, fmt.Errorf("reshare %s: %w: no new share produced", cfg.KeyID, ErrAborted)
		}
		sh := &Share{Data: *save}
		return &Result{PublicKey: sh.PublicKey(), Share: sh}, nil
	}
	return s, nil
}
