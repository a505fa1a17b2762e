package btc

import (
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// Signature is an ECDSA signature over one sighash, as a threshold signing
// session produces it. S may be in the high half of the group order; it is
// normalized to low S (BIP-62/146) before use.
type Signature struct {
	R, S *big.Int
}

// SignatureFromCompact reads a 64-byte r ‖ s signature (big-endian).
func SignatureFromCompact(b []byte) (Signature, error) {
	if len(b) != 64 {
		return Signature{}, fmt.Errorf("read compact signature: %d bytes, want 64: %w", len(b), ErrInvalidSignature)
	}
	return Signature{R: new(big.Int).SetBytes(b[:32]), S: new(big.Int).SetBytes(b[32:])}, nil
}

// ecdsaSig checks that 0 < r, s < n and returns the library signature with
// s replaced by n − s when s > n/2.
func (s Signature) ecdsaSig() (*ecdsa.Signature, error) {
	var r, sv btcec.ModNScalar
	if err := scalar(&r, s.R); err != nil {
		return nil, fmt.Errorf("read r: %w", err)
	}
	if err := scalar(&sv, s.S); err != nil {
		return nil, fmt.Errorf("read s: %w", err)
	}
	if sv.IsOverHalfOrder() {
		sv.Negate()
	}
	return ecdsa.NewSignature(&r, &sv), nil
}

// scalar sets dst to v, requiring 0 < v < n.
func scalar(dst *btcec.ModNScalar, v *big.Int) error {
	if v == nil || v.Sign() <= 0 || v.BitLen() > 256 {
		return ErrInvalidSignature
	}
	var buf [32]byte
	if overflow := dst.SetByteSlice(v.FillBytes(buf[:])); overflow || dst.IsZero() {
		return ErrInvalidSignature
	}
	return nil
}
