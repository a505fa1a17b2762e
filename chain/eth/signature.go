package eth

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/crypto"
)

// Signature is an ECDSA signature over the signing hash with its recovery
// ID V (0 or 1), as a threshold signing session produces it. S may be in
// the high half of the group order: it is then replaced by n − S and V is
// flipped, which keeps the same signer (EIP-2 requires low S).
type Signature struct {
	R, S *big.Int
	V    byte
}

// SignatureFromBytes reads a 65-byte r ‖ s ‖ v signature with v in {0, 1}.
func SignatureFromBytes(b []byte) (Signature, error) {
	if len(b) != crypto.SignatureLength {
		return Signature{}, fmt.Errorf("read signature: %d bytes, want 65: %w", len(b), ErrInvalidSignature)
	}
	return Signature{R: new(big.Int).SetBytes(b[:32]), S: new(big.Int).SetBytes(b[32:64]), V: b[64]}, nil
}

// bytes65 validates the signature, normalizes it to low S and returns
// r ‖ s ‖ v as go-ethereum expects it.
func (s Signature) bytes65() ([crypto.SignatureLength]byte, error) {
	var out [crypto.SignatureLength]byte
	n := crypto.S256().Params().N
	switch {
	case s.R == nil || s.S == nil:
		return out, fmt.Errorf("read signature: missing r or s: %w", ErrInvalidSignature)
	case s.R.Sign() <= 0 || s.R.Cmp(n) >= 0:
		return out, fmt.Errorf("read r: out of range: %w", ErrInvalidSignature)
	case s.S.Sign() <= 0 || s.S.Cmp(n) >= 0:
		return out, fmt.Errorf("read s: out of range: %w", ErrInvalidSignature)
	case s.V > 1:
		return out, fmt.Errorf("read recovery id %d: want 0 or 1: %w", s.V, ErrInvalidSignature)
	}
	sv, v := s.S, s.V
	if sv.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		sv, v = new(big.Int).Sub(n, sv), v^1
	}
	s.R.FillBytes(out[:32])
	sv.FillBytes(out[32:64])
	out[64] = v
	return out, nil
}
