package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/internal/blob"
)

// Seal encrypts plaintext with CKM_AES_GCM under the sealing key, with a
// fresh random 96-bit IV and aad as the GCM additional data. The blob is
// version ‖ IV ‖ ciphertext ‖ 128-bit tag (see hsm/internal/blob).
func (k *Keystore) Seal(ctx context.Context, aad, plaintext []byte) ([]byte, error) {
	var b []byte
	err := k.do(ctx, func(sh p11.SessionHandle, st *state) (err error) {
		b, err = k.seal(sh, st.sealKey, aad, plaintext)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	return b, nil
}

func (k *Keystore) seal(sh p11.SessionHandle, key p11.ObjectHandle, aad, plaintext []byte) ([]byte, error) {
	iv := make([]byte, blob.NonceSize)
	rand.Read(iv)
	// The params own C memory holding the IV and AAD, which the module may
	// read (or, for HSMs that choose their own IV, write) until the
	// operation ends: free them only after C_Encrypt.
	params := p11.NewGCMParams(iv, aad, blob.TagSize*8)
	defer params.Free()
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}
	if err := k.mod.ctx.EncryptInit(sh, mech, key); err != nil {
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
// A blob that does not authenticate (wrong aad, another key, a modified or
// malformed blob) gives an error wrapping hsm.ErrUnseal and no plaintext.
// A token that is away or failing gives one wrapping hsm.ErrUnavailable
// instead (decryptError), never hsm.ErrUnseal.
func (k *Keystore) Open(ctx context.Context, aad, sealedBlob []byte) ([]byte, error) {
	nonce, sealed, err := blob.Split(sealedBlob)
	if err != nil {
		return nil, fmt.Errorf("unseal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	var pt []byte
	err = k.do(ctx, func(sh p11.SessionHandle, st *state) (err error) {
		pt, err = k.open(sh, st.sealKey, aad, nonce, sealed)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unseal with key %q on token %q: %w", k.cfg.SealKeyLabel, k.cfg.TokenLabel, err)
	}
	return pt, nil
}

// open decrypts; a failed C_Decrypt is judged by decryptError, with the
// self-test blob as the probe of a working device.
func (k *Keystore) open(sh p11.SessionHandle, key p11.ObjectHandle, aad, nonce, sealed []byte) ([]byte, error) {
	pt, err := k.decrypt(sh, key, aad, nonce, sealed)
	if errors.Is(err, errDecrypt) {
		return nil, decryptError(err, func() error { return k.openProbe(sh, key) })
	}
	if err != nil {
		return nil, err
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

// errDecrypt marks a failure of C_Decrypt itself (not of C_DecryptInit):
// the call where a module reports a tag mismatch.
var errDecrypt = errors.New("decrypt")

// decrypt is C_DecryptInit and C_Decrypt with AES-GCM; errors carry the
// module's code.
func (k *Keystore) decrypt(sh p11.SessionHandle, key p11.ObjectHandle, aad, nonce, sealed []byte) ([]byte, error) {
	params := p11.NewGCMParams(nonce, aad, blob.TagSize*8)
	defer params.Free()
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, params)}
	if err := k.mod.ctx.DecryptInit(sh, mech, key); err != nil {
		return nil, fmt.Errorf("start AES-GCM decryption: %w", err)
	}
	pt, err := k.mod.ctx.Decrypt(sh, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecrypt, err)
	}
	return pt, nil
}
