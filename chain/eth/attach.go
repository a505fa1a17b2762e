package eth

import (
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"
)

// Attach turns the threshold signature into a signed transaction. The
// signature is normalized to low S (flipping V), attached with
// types.NewLondonSigner, and the sender recovered by types.Sender must be
// the wallet.
func (u *Unsigned) Attach(sigs []Signature) (*Signed, error) {
	if len(sigs) != 1 {
		return nil, fmt.Errorf("attach signature: %d given, want 1: %w", len(sigs), ErrSignatureCount)
	}
	sig, err := sigs[0].bytes65()
	if err != nil {
		return nil, fmt.Errorf("attach signature: %w", err)
	}
	signer := types.NewLondonSigner(u.tx.ChainId())
	signed, err := u.tx.WithSignature(signer, sig[:])
	if err != nil {
		return nil, fmt.Errorf("attach signature: %v: %w", err, ErrInvalidSignature)
	}
	sender, err := types.Sender(signer, signed)
	if err != nil {
		return nil, fmt.Errorf("attach signature: recover sender: %v: %w", err, ErrInvalidSignature)
	}
	if sender != u.from {
		return nil, fmt.Errorf("attach signature: recovered %s, wallet %s: %w", sender.Hex(), u.from.Hex(), ErrSenderMismatch)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("attach signature: encode: %v: %w", err, ErrMalformedTx)
	}
	if err := Verify(raw, u.from.Hex()); err != nil {
		return nil, fmt.Errorf("attach signature: %w", err)
	}
	sum, err := summarize(signed, sender)
	if err != nil {
		return nil, fmt.Errorf("attach signature: %w", err)
	}
	return &Signed{tx: signed, summary: sum}, nil
}
