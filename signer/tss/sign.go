package tss

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/common"
	"github.com/bnb-chain/tss-lib/v3/crypto"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/signing"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
	"google.golang.org/protobuf/proto"
)

// SignRounds is the number of signing rounds reported in progress.
const SignRounds = 9

// signFinalType is the last signing round's message: it carries the
// party's share s_i of the signature.
var signFinalType = string(proto.MessageName(&signing.SignRound9Message{}))

// SignConfig describes this node's part in a signing session.
type SignConfig struct {
	SessionID  []byte
	Cluster    string // binds the session nonce
	Self       string
	KeyID      string
	Generation uint32
	Threshold  int
	Committee  []string // the key's whole committee
	Signers    []string // the t+1 (or more) nodes signing
	Share      *Share   // this node's share; zeroed when the session ends
	// OpenShare, when Share is nil, unseals the share when the session
	// runs, not before: a prepared session that never runs costs no
	// unsealing and holds no secret.
	OpenShare func(context.Context) (*Share, error)
	ChainCode []byte
	Path      []uint32 // non-hardened child path; empty for the master key
	Digest    [32]byte // computed by this node itself
	// KeepShare leaves zeroing the share to the caller, for several
	// sessions signing with one unsealed share.
	KeepShare bool
	Log       *slog.Logger
}

// NewSign prepares a signing session.
func NewSign(cfg SignConfig) (*Session, error) {
	if err := requireConstantTime("sign with " + cfg.KeyID); err != nil {
		return nil, err
	}
	if cfg.Cluster == "" || len(cfg.SessionID) == 0 {
		return nil, fmt.Errorf("sign with %s: %w: cluster and session ID bind the session nonce", cfg.KeyID, ErrBadSpec)
	}
	if len(cfg.Signers) < cfg.Threshold+1 {
		return nil, fmt.Errorf("sign with %s: %w: %d signers, threshold needs %d", cfg.KeyID, ErrBadSpec, len(cfg.Signers), cfg.Threshold+1)
	}
	if cfg.Share == nil && cfg.OpenShare == nil {
		return nil, fmt.Errorf("sign with %s: %w", cfg.KeyID, ErrBadShare)
	}
	inCommittee := map[string]bool{}
	for _, n := range cfg.Committee {
		inCommittee[n] = true
	}
	for _, n := range cfg.Signers {
		if !inCommittee[n] {
			return nil, fmt.Errorf("sign with %s: %w: %s is not in the committee", cfg.KeyID, ErrBadSpec, n)
		}
	}
	parties, err := Committee(cfg.KeyID, cfg.Generation, cfg.Signers)
	if err != nil {
		return nil, err
	}
	ps := newPartySet(parties)
	me, ok := ps.find(cfg.Self)
	if !ok {
		return nil, fmt.Errorf("sign with %s: %w: %s is not a signer", cfg.KeyID, ErrBadSpec, cfg.Self)
	}
	s := newSession(cfg.SessionID, cfg.Self, SignRounds, cfg.Log)
	s.addCommittee(ps)
	s.finalType = signFinalType
	key := keyHex(me.Key)
	s.expect(key)
	var pub *ecdsa.PublicKey
	build := func(share *Share) error {
		if share.Data.ShareID.Cmp(me.KeyInt()) != 0 {
			return fmt.Errorf("sign with %s: %w: share belongs to another party or generation", cfg.KeyID, ErrBadShare)
		}
		if err := share.holds(parties); err != nil {
			return fmt.Errorf("sign with %s: %w", cfg.KeyID, err)
		}
		ec := tsslib.S256()
		delta, derived, err := Derive(share.PublicKey(), cfg.ChainCode, cfg.Path)
		if err != nil {
			return fmt.Errorf("sign with %s: %w", cfg.KeyID, err)
		}
		pub = derived
		data := share.Data
		var kdd *big.Int
		if len(cfg.Path) > 0 {
			data.BigXj = append([]*crypto.ECPoint(nil), data.BigXj...)
			keys := []keygen.LocalPartySaveData{data}
			if err := signing.UpdatePublicKeyAndAdjustBigXj(delta, keys, pub, ec); err != nil {
				return fmt.Errorf("sign with %s: derive %v: %w", cfg.KeyID, cfg.Path, err)
			}
			data, kdd = keys[0], delta
		}
		params := tsslib.NewParameters(ec, tsslib.NewPeerContext(ps.sorted), me, len(ps.sorted), cfg.Threshold)
		params.SetSessionNonce(SignNonce(cfg.Cluster, cfg.KeyID, cfg.Generation, cfg.SessionID, cfg.Digest, cfg.Signers, cfg.Path))
		end := make(chan *common.SignatureData, 1)
		msg := new(big.Int).SetBytes(cfg.Digest[:])
		s.local[key] = signing.NewLocalPartyWithKDD(msg, params, data, kdd, s.out, end, len(cfg.Digest))
		go func() {
			select {
			case sig := <-end:
				s.done <- partyDone{key: key, sig: sig}
			case <-s.abortCh:
			}
		}()
		return nil
	}
	if cfg.Share != nil {
		if !cfg.KeepShare {
			s.onEnd = cfg.Share.Zero
		}
		if err := build(cfg.Share); err != nil {
			return nil, err
		}
	} else {
		s.build = func(ctx context.Context) error {
			share, err := cfg.OpenShare(ctx)
			if err != nil {
				return fmt.Errorf("sign with %s: open share: %w", cfg.KeyID, err)
			}
			if !cfg.KeepShare {
				s.onEnd = share.Zero
			}
			return build(share)
		}
	}
	s.finish = func(done map[string]partyDone) (*Result, error) {
		sd := done[key].sig
		if sd == nil || len(sd.R) == 0 {
			return nil, fmt.Errorf("sign with %s: %w: no signature", cfg.KeyID, ErrAborted)
		}
		sig := &Signature{R: new(big.Int).SetBytes(sd.R), S: new(big.Int).SetBytes(sd.S)}
		if len(sd.SignatureRecovery) > 0 {
			sig.Recovery = sd.SignatureRecovery[0]
		}
		if !ecdsa.Verify(pub, cfg.Digest[:], sig.R, sig.S) {
			return nil, &SessionError{Reason: "combined signature does not verify under the key", Err: ErrAborted}
		}
		return &Result{PublicKey: pub, Signature: sig}, nil
	}
	return s, nil
}
