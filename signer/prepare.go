package signer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func (n *Node) prepareKeygen(ctx context.Context, sid []byte, spec *peerpb.SessionSpec) (*entry, error) {
	if _, err := n.store.Key(spec.KeyId); !errors.Is(err, ledger.ErrKeyNotFound) {
		if err == nil {
			return nil, fmt.Errorf("key %s already exists", spec.KeyId)
		}
		return nil, err
	}
	if !slices.Contains(spec.Parties, n.cfg.Node) {
		return nil, fmt.Errorf("%s is not in the committee", n.cfg.Node)
	}
	if err := n.cfg.checkVaultCommittee(spec.Parties, int(spec.Threshold)); err != nil {
		return nil, err
	}
	sess, err := ctss.NewKeygen(ctss.KeygenConfig{SessionID: sid, Cluster: n.cfg.Cluster, Self: n.cfg.Node, KeyID: spec.KeyId,
		Threshold: int(spec.Threshold), Nodes: spec.Parties, TakePreParams: n.takePreParams, Confirm: identityConfirmer{n}, Log: n.log})
	if err != nil {
		return nil, err
	}
	e := &entry{subs: []*ctss.Session{sess}, discard: func() {}}
	e.onSuccess = single(func(ctx context.Context, res *ctss.Result) (*peerpb.RunResponse, error) {
		defer res.Share.Zero()
		pub, err := ctss.CompressedPubKey(res.PublicKey)
		if err != nil {
			return nil, err
		}
		blob, err := n.sealShare(ctx, spec.KeyId, 0, res.Share)
		if err != nil {
			return nil, err
		}
		rec := ledger.KeyRecord{ID: spec.KeyId, PublicKey: pub, ChainCode: ctss.ChainCode(pub), Threshold: int(spec.Threshold),
			Committee: members(spec.KeyId, 0, spec.Parties), Generation: 0, CreatedAt: n.now().UTC(), SealedShare: blob}
		if err := n.store.PutKey(rec); err != nil {
			return nil, fmt.Errorf("store key %s: %w", spec.KeyId, err)
		}
		n.replicateKey(ctx, rec)
		ev := &audit.KeyEvent{KeyID: spec.KeyId, Generation: 0, Threshold: int(spec.Threshold), Parties: spec.Parties, PublicKey: pub, SessionID: sid}
		if len(res.Confirmations) > 0 {
			ev.Transcript = res.Confirmations[0].Transcript
		}
		for _, p := range spec.Parties {
			for _, c := range res.Confirmations {
				if c.Node == p {
					ev.Confirmations = append(ev.Confirmations, audit.KeyConfirmation{Node: p, Signature: c.Signature})
				}
			}
		}
		n.logAudit(ctx, audit.Record{Kind: audit.KindKeyGenerated, Time: n.now().UTC(), Key: ev})
		n.log.Info("key generated", "key", spec.KeyId, "threshold", spec.Threshold, "committee", spec.Parties, "confirmed_by", len(ev.Confirmations))
		return &peerpb.RunResponse{PublicKey: pub}, nil
	})
	return e, nil
}

func (n *Node) prepareSign(ctx context.Context, sid []byte, spec *peerpb.SessionSpec) (*entry, error) {
	if !n.cfg.SelfTestSigning {
		return nil, errors.New("self-test signing is disabled on this node")
	}
	if len(spec.SelftestNonce) != 32 {
		return nil, errors.New("self-test nonce must be 32 bytes")
	}
	rec, err := n.store.Key(spec.KeyId)
	if err != nil {
		return nil, err
	}
	if rec.SealedShare == nil {
		return nil, fmt.Errorf("%s holds no share of %s", n.cfg.Node, spec.KeyId)
	}
	if w, ok := n.walletOfKey(spec.KeyId); ok {
		return nil, fmt.Errorf("key %s backs wallet %s: the self-test signs only with keys no wallet uses", spec.KeyId, w)
	}
	committee := rec.Nodes()
	digest := SelfTestDigest(spec.KeyId, spec.SelftestNonce)
	sh := n.lazyShare(rec.ID, rec.Generation, rec.SealedShare, rec.PublicKey)
	sess, err := ctss.NewSign(ctss.SignConfig{SessionID: sid, Cluster: n.cfg.Cluster, Self: n.cfg.Node, KeyID: rec.ID, Generation: rec.Generation,
		Threshold: rec.Threshold, Committee: committee, Signers: spec.Parties, OpenShare: sh.get, ChainCode: rec.ChainCode,
		Path: spec.DerivationPath, Digest: digest, KeepShare: true, Log: n.log})
	if err != nil {
		return nil, err
	}
	e := &entry{subs: []*ctss.Session{sess}, discard: sh.zero, after: sh.zero}
	e.onSuccess = single(func(_ context.Context, res *ctss.Result) (*peerpb.RunResponse, error) {
		pub, err := ctss.CompressedPubKey(res.PublicKey)
		if err != nil {
			return nil, err
		}
		return &peerpb.RunResponse{PublicKey: pub, SignatureR: res.Signature.R.Bytes(), SignatureS: res.Signature.S.Bytes(),
			SignatureRecovery: uint32(res.Signature.Recovery)}, nil
	})
	return e, nil
}

func (n *Node) prepareReshare(ctx context.Context, sid []byte, spec *peerpb.SessionSpec) (*entry, error) {
	isOld, isNew := slices.Contains(spec.Parties, n.cfg.Node), slices.Contains(spec.NewParties, n.cfg.Node)
	if !isOld && !isNew {
		return nil, fmt.Errorf("%s takes no part", n.cfg.Node)
	}
	if err := n.cfg.checkVaultCommittee(spec.NewParties, int(spec.NewThreshold)); err != nil {
		return nil, err
	}
	rec, err := n.store.Key(spec.KeyId)
	known := err == nil
	switch {
	case err != nil && !errors.Is(err, ledger.ErrKeyNotFound):
		return nil, err
	case !known && isOld:
		return nil, fmt.Errorf("%s does not know key %s", n.cfg.Node, spec.KeyId)
	case known && (rec.Generation != spec.OldGeneration || rec.Threshold != int(spec.OldThreshold) ||
		!slices.Equal(rec.Nodes(), spec.OldCommittee) || !bytes.Equal(rec.PublicKey, spec.PublicKey)):
		return nil, fmt.Errorf("the spec's view of %s (generation %d) differs from this node's record (generation %d)", spec.KeyId, spec.OldGeneration, rec.Generation)
	}
	cfg := ctss.ReshareConfig{SessionID: sid, Cluster: n.cfg.Cluster, Self: n.cfg.Node, KeyID: spec.KeyId, OldGeneration: spec.OldGeneration,
		OldThreshold: int(spec.OldThreshold), OldCommittee: spec.OldCommittee, OldSigners: spec.Parties,
		NewNodes: spec.NewParties, NewThreshold: int(spec.NewThreshold), Log: n.log}
	// the share is unsealed and the pre-parameters taken when the session
	// runs, not here: a Prepare that never runs costs neither
	if isOld {
		cfg.OpenShare = n.lazyShare(rec.ID, rec.Generation, rec.SealedShare, rec.PublicKey).get
	}
	if isNew {
		cfg.TakePreParams = n.takePreParams
	}
	sess, err := ctss.NewReshare(cfg)
	if err != nil {
		return nil, err
	}
	e := &entry{subs: []*ctss.Session{sess}, discard: func() {}}
	e.onSuccess = single(func(ctx context.Context, res *ctss.Result) (*peerpb.RunResponse, error) {
		pub, err := ctss.CompressedPubKey(res.PublicKey)
		if err != nil || !bytes.Equal(pub, spec.PublicKey) {
			return nil, fmt.Errorf("reshare of %s produced another public key", spec.KeyId)
		}
		gen := spec.OldGeneration + 1
		next := ledger.KeyRecord{ID: spec.KeyId, PublicKey: pub, ChainCode: ctss.ChainCode(pub), Threshold: int(spec.NewThreshold),
			Committee: members(spec.KeyId, gen, spec.NewParties), Generation: gen, CreatedAt: n.now().UTC()}
		if res.Share != nil {
			defer res.Share.Zero()
			if next.SealedShare, err = n.sealShare(ctx, spec.KeyId, gen, res.Share); err != nil {
				return nil, err
			}
		}
		if known {
			err = n.store.ReplaceKey(next)
		} else {
			err = n.store.PutKey(next)
		}
		if err != nil {
			return nil, fmt.Errorf("store reshared key %s: %w", spec.KeyId, err)
		}
		if next.SealedShare != nil {
			n.replicateKey(ctx, next)
		}
		n.logAudit(ctx, audit.Record{Kind: audit.KindKeyReshared, Time: n.now().UTC(), Key: &audit.KeyEvent{KeyID: spec.KeyId,
			Generation: uint64(gen), Threshold: int(spec.NewThreshold), Parties: spec.NewParties, PublicKey: pub, OldParties: spec.OldCommittee}})
		n.log.Info("key reshared", "key", spec.KeyId, "generation", gen, "threshold", spec.NewThreshold, "committee", spec.NewParties, "holds_share", res.Share != nil)
		return &peerpb.RunResponse{PublicKey: pub}, nil
	})
	return e, nil
}

func members(keyID string, gen uint32, nodes []string) []ledger.Member {
	out := make([]ledger.Member, 0, len(nodes))
	for _, nd := range nodes {
		out = append(out, ledger.Member{Node: nd, PartyKey: ctss.PartyKey(keyID, gen, nd).Bytes()})
	}
	return out
}

// replicateKey puts this node's key record, its share sealed by this
// node's HSM, in the replicated log: a node whose store is lost recovers
// its shares from there (no other node can open them). A failure is logged:
// the share is stored locally all the same.
func (n *Node) replicateKey(ctx context.Context, rec ledger.KeyRecord) {
	_, err := n.propose(context.WithoutCancel(ctx), ledger.Command{Kind: ledger.CmdKey, At: n.now().UTC(), ID: "key:" + rec.ID, Key: &rec})
	if err != nil {
		n.log.Error("replicate key record", "key", rec.ID, "generation", rec.Generation, "err", err)
	}
}
