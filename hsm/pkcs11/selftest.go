package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/internal/blob"
)

// probeText is the self-test's plaintext and associated data.
var probeText = []byte("coffer/hsm/self-test/v1")

// selfTest seals and opens a probe and signs and verifies one, so that a
// token lacking CKM_AES_GCM or CKM_EDDSA, or whose identity public key does
// not match its private key, stops the node at start rather than mid-session.
// The sealed probe is kept (k.probe): a blob known to open.
func (k *Keystore) selfTest() error {
	ctx := context.Background()
	b, err := k.Seal(ctx, probeText, probeText)
	if err != nil {
		return err
	}
	k.probe = b
	got, err := k.Open(ctx, probeText, b)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, probeText) {
		return errors.New("seal/open round trip changed the plaintext")
	}
	sig, err := k.identity.Sign(nil, probeText, crypto.Hash(0))
	if err != nil {
		return err
	}
	if !ed25519.Verify(k.identity.pub, probeText, sig) {
		return fmt.Errorf("identity key %q: %w: the public key does not verify the private key's signature",
			k.cfg.IdentityKeyLabel, hsm.ErrKeyPolicy)
	}
	return nil
}

// openProbe opens the self-test blob with key on session sh: it tells
// whether the device still decrypts (decryptError), and whether a key
// found after a relogin is the seal key the keystore was opened with.
func (k *Keystore) openProbe(sh p11.SessionHandle, key p11.ObjectHandle) error {
	if k.probe == nil {
		return errors.New("no self-test blob yet")
	}
	nonce, sealed, err := blob.Split(k.probe)
	if err != nil {
		return err
	}
	got, err := k.decrypt(sh, key, probeText, nonce, sealed)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, probeText) {
		return errors.New("the self-test blob opened to another plaintext")
	}
	return nil
}

// sameKeys checks, through st's anchor session, that the keys found after
// a relogin are those the keystore was opened with: the identity public
// key is the same and its private key signs for it, and the seal key
// opens the self-test blob. A token swapped for another one with the same
// labels is refused (hsm.ErrKeyPolicy).
func (k *Keystore) sameKeys(st *state, pub ed25519.PublicKey) error {
	sh := st.tok.sh
	if !pub.Equal(k.identity.pub) {
		return fmt.Errorf("identity key %q: %w: the token came back with another identity key", k.cfg.IdentityKeyLabel, hsm.ErrKeyPolicy)
	}
	if err := k.openProbe(sh, st.sealKey); err != nil {
		// A token away or failing is not a changed key; a tag mismatch
		// is, and SoftHSM reports one as CKR_GENERAL_ERROR: that code,
		// ambiguous, counts as a changed key (refused until a restart).
		if c := classify(err); errors.Is(c, hsm.ErrUnavailable) && !isRV(err, p11.CKR_GENERAL_ERROR, p11.CKR_FUNCTION_FAILED) {
			return c
		}
		return fmt.Errorf("seal key %q: %w: the token came back with a key that does not open the self-test blob (%w)",
			k.cfg.SealKeyLabel, hsm.ErrKeyPolicy, err)
	}
	sig, err := k.sign(sh, st.idKey, probeText)
	if err != nil {
		return fmt.Errorf("sign with identity key %q: %w", k.cfg.IdentityKeyLabel, classify(err))
	}
	if !ed25519.Verify(k.identity.pub, probeText, sig) {
		return fmt.Errorf("identity key %q: %w: the token came back with another identity private key", k.cfg.IdentityKeyLabel, hsm.ErrKeyPolicy)
	}
	return nil
}
