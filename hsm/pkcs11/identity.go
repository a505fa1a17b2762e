package pkcs11

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	p11 "github.com/miekg/pkcs11"
)

// PKCS#11 3.0 Edwards-curve constants, missing from miekg/pkcs11 v1.1.2.
const (
	ckkECEdwards           = 0x00000040 // CKK_EC_EDWARDS
	ckmECEdwardsKeyPairGen = 0x00001055 // CKM_EC_EDWARDS_KEY_PAIR_GEN
	ckmEdDSA               = 0x00001057 // CKM_EDDSA
)

// ed25519Params is CKA_EC_PARAMS for edwards25519: the DER of OID
// 1.3.101.112 (id-Ed25519, RFC 8410), which PKCS#11 3.0 and SoftHSM accept.
var ed25519Params = []byte{0x06, 0x03, 0x2b, 0x65, 0x70}

// identitySigner is the node identity key as a crypto.Signer. It signs
// with CKM_EDDSA without parameters: pure Ed25519 over the whole message,
// as crypto/tls (TLS 1.3 CertificateVerify), crypto/x509 and note.Signer
// require.
type identitySigner struct {
	k   *Keystore
	pub ed25519.PublicKey
}

var _ crypto.Signer = (*identitySigner)(nil)

// Public returns a copy of the ed25519.PublicKey.
func (s *identitySigner) Public() crypto.PublicKey {
	return append(ed25519.PublicKey(nil), s.pub...)
}

// Sign signs msg itself with Ed25519. opts must ask for no pre-hash
// (crypto.Hash(0)) and no context; rand is ignored (Ed25519 is
// deterministic). After Close it fails with hsm.ErrClosed.
func (s *identitySigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	what := fmt.Sprintf("sign with identity key %q on token %q", s.k.cfg.IdentityKeyLabel, s.k.cfg.TokenLabel)
	if err := checkPureEd25519(opts); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var sig []byte
	err := s.k.do(context.Background(), func(sh p11.SessionHandle, st *state) (err error) {
		sig, err = s.k.sign(sh, st.idKey, msg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return sig, nil
}

func (k *Keystore) sign(sh p11.SessionHandle, key p11.ObjectHandle, msg []byte) ([]byte, error) {
	if err := k.mod.ctx.SignInit(sh, []*p11.Mechanism{p11.NewMechanism(ckmEdDSA, nil)}, key); err != nil {
		return nil, fmt.Errorf("start EdDSA signature: %w", err)
	}
	sig, err := k.mod.ctx.Sign(sh, msg)
	if err != nil {
		return nil, err
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("module returned a %d-byte signature, want %d", len(sig), ed25519.SignatureSize)
	}
	return sig, nil
}

// checkPureEd25519 accepts only the options of pure Ed25519.
func checkPureEd25519(opts crypto.SignerOpts) error {
	if opts == nil {
		return errors.New("nil signer options; want crypto.Hash(0)")
	}
	if h := opts.HashFunc(); h != 0 {
		return fmt.Errorf("pre-hashed message (%v) not supported: pass the message itself with crypto.Hash(0)", h)
	}
	if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
		return errors.New("Ed25519ctx (a context string) is not supported")
	}
	return nil
}

// readEd25519Public reads and decodes CKA_EC_POINT of an Ed25519 public
// key object, after checking its type and curve.
func (m *module) readEd25519Public(sh p11.SessionHandle, o p11.ObjectHandle) (ed25519.PublicKey, error) {
	a, err := m.attrs(sh, o, p11.CKA_KEY_TYPE, p11.CKA_EC_POINT)
	if err != nil {
		return nil, err
	}
	if kt, ok := ulongAttr(a[p11.CKA_KEY_TYPE]); !ok || kt != ckkECEdwards {
		return nil, fmt.Errorf("CKA_KEY_TYPE is %#x, want CKK_EC_EDWARDS", kt)
	}
	return decodeECPoint(a[p11.CKA_EC_POINT])
}

// decodeECPoint accepts the DER OCTET STRING form PKCS#11 specifies and
// the raw 32 bytes some modules return.
func decodeECPoint(v []byte) (ed25519.PublicKey, error) {
	if len(v) == ed25519.PublicKeySize {
		return append(ed25519.PublicKey(nil), v...), nil
	}
	var raw []byte
	rest, err := asn1.Unmarshal(v, &raw)
	if err != nil || len(rest) != 0 || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("CKA_EC_POINT (%d bytes) is not an Ed25519 point", len(v))
	}
	return ed25519.PublicKey(raw), nil
}
