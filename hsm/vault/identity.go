package vault

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// identitySigner is the node identity key (transit ed25519) as a
// crypto.Signer, usable as the private key of a tls.Certificate and as a
// note signer. Transit signs the message itself with pure Ed25519 when
// prehashed is false and no signature context is given (a context,
// Ed25519ctx, is Vault Enterprise only; signature_algorithm applies to RSA
// keys only and is not sent).
type identitySigner struct {
	k   *Keystore
	pub ed25519.PublicKey
}

var _ crypto.Signer = (*identitySigner)(nil)

// Public returns a copy of the ed25519.PublicKey.
func (s *identitySigner) Public() crypto.PublicKey {
	return append(ed25519.PublicKey(nil), s.pub...)
}

// Sign signs msg with Ed25519 in transit. opts must ask for no pre-hash
// (crypto.Hash(0)) and no context; rand is ignored. The signature is
// verified against the public key before it is returned. After Close it
// fails with hsm.ErrClosed.
func (s *identitySigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	k := s.k
	what := fmt.Sprintf("sign with transit key %q on %s", k.cfg.IdentityKey, k.cfg.Address)
	if err := checkPureEd25519(opts); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ctx, end, err := k.begin(context.Background())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer end()
	body := map[string]any{
		"input":       base64.StdEncoding.EncodeToString(msg),
		"prehashed":   false,
		"key_version": keyVersion,
	}
	data, err := k.c.Write(ctx, k.cfg.Mount+"/sign/"+k.cfg.IdentityKey, k.cfg.Mount, `"update"`, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, k.interrupted(err))
	}
	sv, _ := data["signature"].(string)
	rest, ok := strings.CutPrefix(sv, ciphertextPrefix)
	sig, err := base64.StdEncoding.DecodeString(rest)
	if !ok || err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%s: transit answered a malformed signature", what)
	}
	if !ed25519.Verify(s.pub, msg, sig) {
		return nil, fmt.Errorf("%s: transit's signature does not verify under the identity public key", what)
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
