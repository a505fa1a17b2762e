package bench

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/common"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/signing"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"

	ctss "github.com/cofferhq/coffer/signer/tss"
)

// RawSigner signs with plaintext shares in this process, routing tss-lib
// messages in memory: the baseline the cluster is compared with.
type RawSigner struct {
	KeyID      string
	Generation uint32
	Threshold  int
	Signers    []string
	Shares     map[string]*ctss.Share // by node
}

// Sign runs one signing among the signers and verifies the result. Like
// the nodes it runs with tss-lib's constant-time arithmetic on (the tss
// adapter switches it on in every process) and a session nonce.
func (r *RawSigner) Sign(ctx context.Context, digest [32]byte) error {
	if !ctss.ConstantTime() {
		return fmt.Errorf("raw sign: %w", ctss.ErrVariableTime)
	}
	parties, err := ctss.Committee(r.KeyID, r.Generation, r.Signers)
	if err != nil {
		return err
	}
	ids := ctss.SortedPartyIDs(parties)
	pctx := tsslib.NewPeerContext(ids)
	out := make(chan tsslib.Message, 64)
	end := make(chan *common.SignatureData, len(ids))
	errCh := make(chan *tsslib.Error, len(ids))
	ps := make([]tsslib.Party, len(ids))
	msg := new(big.Int).SetBytes(digest[:])
	var pub *ecdsa.PublicKey
	for i, id := range ids {
		sh := r.Shares[id.Moniker]
		if sh == nil {
			return fmt.Errorf("raw sign: no share for %s", id.Moniker)
		}
		pub = sh.PublicKey()
		params := tsslib.NewParameters(tsslib.S256(), pctx, id, len(ids), r.Threshold)
		// the same session binding the nodes use, so both sides do the same work
		params.SetSessionNonce(ctss.SignNonce("bench-raw", r.KeyID, r.Generation, digest[:], digest, r.Signers, nil))
		ps[i] = signing.NewLocalParty(msg, params, keygen.LocalPartySaveData(sh.Data), out, end, len(digest))
	}
	for _, p := range ps {
		go func(p tsslib.Party) {
			if err := p.Start(); err != nil {
				errCh <- err
			}
		}(p)
	}
	update := func(p tsslib.Party, m tsslib.Message) {
		pm, ok := m.(tsslib.ParsedMessage)
		if !ok {
			return
		}
		if _, err := p.Update(pm); err != nil {
			errCh <- err
		}
	}
	var sig *common.SignatureData
	for done := 0; done < len(ps); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errCh:
			return fmt.Errorf("raw sign: %w", err)
		case m := <-out:
			to := m.GetTo()
			if to == nil {
				for _, p := range ps {
					if p.PartyID().Index != m.GetFrom().Index {
						go update(p, m)
					}
				}
			} else {
				for _, d := range to {
					go update(ps[d.Index], m)
				}
			}
		case sig = <-end:
			done++
		}
	}
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig.R), new(big.Int).SetBytes(sig.S)) {
		return fmt.Errorf("raw sign: signature does not verify")
	}
	return nil
}
