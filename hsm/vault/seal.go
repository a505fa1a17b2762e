package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/internal/blob"
)

// ciphertextPrefix is how transit marks a ciphertext of key version
// keyVersion.
var ciphertextPrefix = "vault:v" + strconv.Itoa(keyVersion) + ":"

// Seal encrypts plaintext with transit's encrypt endpoint under version
// keyVersion of the seal key (AES-256-GCM, a fresh random 96-bit nonce per
// call, chosen by Vault), passing aad as the GCM associated data. Transit
// answers vault:v1:base64(nonce ‖ ciphertext ‖ tag); the blob is the
// hsm/internal/blob format of those bytes, as the other backends write.
func (k *Keystore) Seal(ctx context.Context, aad, plaintext []byte) ([]byte, error) {
	what := fmt.Sprintf("seal with transit key %q on %s", k.cfg.SealKey, k.cfg.Address)
	ctx, end, err := k.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer end()
	body := map[string]any{
		"plaintext":   base64.StdEncoding.EncodeToString(plaintext),
		"key_version": keyVersion,
	}
	if len(aad) > 0 {
		body["associated_data"] = base64.StdEncoding.EncodeToString(aad)
	}
	data, err := k.c.Write(ctx, k.cfg.Mount+"/encrypt/"+k.cfg.SealKey, k.cfg.Mount, `"update"`, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, k.interrupted(err))
	}
	ct, _ := data["ciphertext"].(string)
	raw, err := decodeCiphertext(ct)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return blob.Join(raw[:blob.NonceSize], raw[blob.NonceSize:]), nil
}

// decodeCiphertext checks and decodes a transit ciphertext of keyVersion.
func decodeCiphertext(ct string) ([]byte, error) {
	rest, ok := strings.CutPrefix(ct, ciphertextPrefix)
	if !ok {
		return nil, fmt.Errorf("transit answered a ciphertext not of key version %d", keyVersion)
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) < blob.NonceSize+blob.TagSize {
		return nil, errors.New("transit answered a malformed ciphertext")
	}
	return raw, nil
}

// Open decrypts a blob made by Seal with transit's decrypt endpoint and the
// same aad. A malformed blob fails here without a request; a blob that
// Vault refuses to authenticate (wrong aad, another key, modified) yields
// an error wrapping hsm.ErrUnseal and no plaintext. Failures of Vault
// itself (unreachable, sealed, permission) keep their own errors.
func (k *Keystore) Open(ctx context.Context, aad, sealed []byte) ([]byte, error) {
	what := fmt.Sprintf("unseal with transit key %q on %s", k.cfg.SealKey, k.cfg.Address)
	nonce, ct, err := blob.Split(sealed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ctx, end, err := k.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer end()
	raw := make([]byte, 0, len(nonce)+len(ct))
	raw = append(append(raw, nonce...), ct...)
	body := map[string]any{"ciphertext": ciphertextPrefix + base64.StdEncoding.EncodeToString(raw)}
	if len(aad) > 0 {
		body["associated_data"] = base64.StdEncoding.EncodeToString(aad)
	}
	data, err := k.c.Write(ctx, k.cfg.Mount+"/decrypt/"+k.cfg.SealKey, k.cfg.Mount, `"update"`, body)
	if err != nil {
		err = k.interrupted(err)
		if errors.Is(err, ErrRejected) {
			if strings.Contains(err.Error(), "key not found") {
				return nil, fmt.Errorf("%s: %w (%w)", what, hsm.ErrKeyNotFound, err)
			}
			return nil, fmt.Errorf("%s: %w (%w)", what, hsm.ErrUnseal, err)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	s, _ := data["plaintext"].(string)
	pt, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: transit answered a malformed plaintext", what)
	}
	if len(pt) != len(ct)-blob.TagSize {
		clear(pt)
		return nil, fmt.Errorf("%s: %w (transit returned %d bytes for %d of ciphertext)", what, hsm.ErrUnseal, len(pt), len(ct))
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}
