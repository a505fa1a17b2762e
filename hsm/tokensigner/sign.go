package tokensigner

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// ckmEdDSA is CKM_EDDSA (PKCS#11 3.0), missing from miekg/pkcs11 v1.1.2.
const ckmEdDSA = 0x00001057

// Sign signs with the token key, following crypto.Signer: for Ed25519,
// msg is the message itself and opts must be crypto.Hash(0) (pure
// Ed25519, no context); for P-256, msg is a SHA-256 digest, opts must be
// crypto.SHA256, and the signature is ASN.1 DER. rand is ignored (the
// token draws its own randomness). The signature is verified with the
// public key before it is returned.
func (s *Signer) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	what := fmt.Sprintf("sign with key %q on token %q", s.cfg.KeyLabel, s.cfg.TokenLabel)
	mech, err := s.mechanism(msg, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%s: %w", what, hsm.ErrClosed)
	}
	if err := s.ctx.SignInit(s.sh, []*p11.Mechanism{p11.NewMechanism(mech, nil)}, s.priv); err != nil {
		return nil, fmt.Errorf("%s: start signature: %w", what, err)
	}
	raw, err := s.ctx.Sign(s.sh, msg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sig, err := s.finish(msg, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return sig, nil
}

// mechanism checks msg and opts against the key type and picks the
// PKCS#11 mechanism.
func (s *Signer) mechanism(msg []byte, opts crypto.SignerOpts) (uint, error) {
	if opts == nil {
		return 0, fmt.Errorf("nil signer options: %w", ErrUnsupportedKey)
	}
	switch s.pub.(type) {
	case ed25519.PublicKey:
		if h := opts.HashFunc(); h != 0 {
			return 0, fmt.Errorf("Ed25519 signs the message itself, not a %v digest (Ed25519ph is not supported): %w", h, ErrUnsupportedKey)
		}
		if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
			return 0, fmt.Errorf("Ed25519ctx (a context string) is not supported: %w", ErrUnsupportedKey)
		}
		return ckmEdDSA, nil
	case *ecdsa.PublicKey:
		if opts.HashFunc() != crypto.SHA256 {
			return 0, fmt.Errorf("ECDSA P-256 signs a SHA-256 digest, got options for %v: %w", opts.HashFunc(), ErrUnsupportedKey)
		}
		if len(msg) != crypto.SHA256.Size() {
			return 0, fmt.Errorf("digest is %d bytes, want %d (SHA-256): %w", len(msg), crypto.SHA256.Size(), ErrUnsupportedKey)
		}
		return p11.CKM_ECDSA, nil
	}
	return 0, fmt.Errorf("key type %T: %w", s.pub, ErrUnsupportedKey)
}

// finish converts the token's signature to the Go form and verifies it.
func (s *Signer) finish(msg, raw []byte) ([]byte, error) {
	switch pub := s.pub.(type) {
	case ed25519.PublicKey:
		if len(raw) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, raw) {
			return nil, ErrKeyMismatch
		}
		return raw, nil
	case *ecdsa.PublicKey:
		der, err := ecdsaDER(raw)
		if err != nil {
			return nil, err
		}
		if !ecdsa.VerifyASN1(pub, msg, der) {
			return nil, ErrKeyMismatch
		}
		return der, nil
	}
	return nil, ErrUnsupportedKey
}

// ecdsaDER converts CKM_ECDSA's r ‖ s (each 32 bytes for P-256) to the
// ASN.1 DER SEQUENCE { r INTEGER, s INTEGER } of crypto/ecdsa.
func ecdsaDER(raw []byte) ([]byte, error) {
	if len(raw) != 64 {
		return nil, fmt.Errorf("module returned a %d-byte ECDSA signature, want 64 (r ‖ s)", len(raw))
	}
	sig := struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])}
	der, err := asn1.Marshal(sig)
	if err != nil {
		return nil, fmt.Errorf("encode ECDSA signature: %w", err)
	}
	return der, nil
}
