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
)

// checkSealKey verifies the sealing key is an AES-256 key usable for
// encryption and decryption, held under the policy of checkKeyPolicy.
func (m *module) checkSealKey(sh p11.SessionHandle, o p11.ObjectHandle) error {
	if err := m.checkKeyPolicy(sh, o, p11.CKK_AES); err != nil {
		return err
	}
	a, err := m.attrs(sh, o, p11.CKA_VALUE_LEN, p11.CKA_ENCRYPT, p11.CKA_DECRYPT)
	if err != nil {
		return fmt.Errorf("read key attributes: %w", err)
	}
	if n, ok := ulongAttr(a[p11.CKA_VALUE_LEN]); !ok || n != 32 {
		return fmt.Errorf("%w: CKA_VALUE_LEN is %d, want 32 (AES-256)", hsm.ErrKeyPolicy, n)
	}
	if !boolAttr(a[p11.CKA_ENCRYPT]) || !boolAttr(a[p11.CKA_DECRYPT]) {
		return fmt.Errorf("%w: CKA_ENCRYPT and CKA_DECRYPT must both be true", hsm.ErrKeyPolicy)
	}
	return nil
}

// selfTest seals and opens a probe and signs and verifies one, so that a
// token lacking CKM_AES_GCM or CKM_EDDSA, or whose identity public key does
// not match its private key, stops the node at start rather than mid-session.
func (k *Keystore) selfTest() error {
	ctx := context.Background()
	probe := []byte("coffer/hsm/self-test/v1")
	b, err := k.Seal(ctx, probe, probe)
	if err != nil {
		return err
	}
	got, err := k.Open(ctx, probe, b)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, probe) {
		return errors.New("seal/open round trip changed the plaintext")
	}
	sig, err := k.identity.Sign(nil, probe, crypto.Hash(0))
	if err != nil {
		return err
	}
	if !ed25519.Verify(k.identity.pub, probe, sig) {
		return fmt.Errorf("identity key %q: %w: the public key does not verify the private key's signature",
			k.cfg.IdentityKeyLabel, hsm.ErrKeyPolicy)
	}
	return nil
}
