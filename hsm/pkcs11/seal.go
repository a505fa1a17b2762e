package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/internal/blob"
)

// Seal encrypts plaintext with CKM_AES_GCM under the sealing key, with a
// fresh random 96-bit IV and aad as the GCM additional data. The blob is
// version ‖ IV ‖ ciphertext ‖ 128-bit tag (see hsm/internal/blob).
func (k *Keystore) Seal(ctx context.Context, aad, plaintext []byte) ([]byte, error) {
	sh, err := k.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("seal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	b, err := k.seal(sh, aad, plaintext)
	k.release(sh, err != nil)
	if err != nil {
		return nil, fmt.Errorf("seal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	return b, nil
}

func (k *Keystore) seal(sh p11.SessionHandle, aad, plaintext []byte) ([]byte, error) {
	iv := make([]byte, blob.NonceSize)
	rand.Read(iv)
	// The params own C memory holding the IV and AAD, which the module may
	// read (or, for HSMs that choose their own IV, write) until the
	// operation ends: free them only after C_Encrypt.
	params := p11.NewGCMParams(iv, aad, blob.TagSize*8)
	defer params.Free()
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}
	if err := k.mod.ctx.EncryptInit(sh, mech, k.sealKey); err != nil {
		return nil, fmt.Errorf("start AES-GCM encryption: %w", err)
	}
	sealed, err := k.mod.ctx.Encrypt(sh, plaintext)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if len(sealed) != len(plaintext)+blob.TagSize {
		return nil, fmt.Errorf("encrypt: module returned %d bytes for %d of plaintext, want a %d-byte tag", len(sealed), len(plaintext), blob.TagSize)
	}
	if used := params.IV(); len(used) == blob.NonceSize && !bytes.Equal(used, iv) {
		iv = used // the module replaced our IV with its own: record the one used
	}
	return blob.Join(iv, sealed), nil
}

// Open decrypts and authenticates a blob made by Seal with the same aad.
// Any failure (wrong aad, another key, a modified or malformed blob)
// returns an error wrapping hsm.ErrUnseal and no plaintext.
func (k *Keystore) Open(ctx context.Context, aad, sealedBlob []byte) ([]byte, error) {
	nonce, sealed, err := blob.Split(sealedBlob)
	if err != nil {
		return nil, fmt.Errorf("unseal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	sh, err := k.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("unseal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	pt, err := k.open(sh, aad, nonce, sealed)
	k.release(sh, err != nil)
	if err != nil {
		return nil, fmt.Errorf("unseal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	return pt, nil
}

func (k *Keystore) open(sh p11.SessionHandle, aad, nonce, sealed []byte) ([]byte, error) {
	params := p11.NewGCMParams(nonce, aad, blob.TagSize*8)
	defer params.Free()
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}
	if err := k.mod.ctx.DecryptInit(sh, mech, k.sealKey); err != nil {
		return nil, fmt.Errorf("start AES-GCM decryption: %w", err)
	}
	pt, err := k.mod.ctx.Decrypt(sh, sealed)
	if err != nil {
		// Modules report a tag mismatch variously (SoftHSM: CKR_GENERAL_ERROR;
		// others CKR_ENCRYPTED_DATA_INVALID): treat every decrypt failure
		// as a failure to unseal, keeping the module's code for operators.
		return nil, fmt.Errorf("%w (%w)", hsm.ErrUnseal, err)
	}
	if len(pt) != len(sealed)-blob.TagSize {
		clear(pt)
		return nil, fmt.Errorf("%w (module returned %d bytes for %d of ciphertext)", hsm.ErrUnseal, len(pt), len(sealed))
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}
