package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cofferhq/coffer/hsm"
)

// Transit key types this backend uses.
const (
	sealKeyType     = "aes256-gcm96"
	identityKeyType = "ed25519"
)

// transitKey is what GET MOUNT/keys/NAME says of a key.
type transitKey struct {
	Type                 string                     `json:"type"`
	Exportable           bool                       `json:"exportable"`
	AllowPlaintextBackup bool                       `json:"allow_plaintext_backup"`
	Derived              bool                       `json:"derived"`
	DeletionAllowed      bool                       `json:"deletion_allowed"`
	MinDecryptionVersion int                        `json:"min_decryption_version"`
	MinEncryptionVersion int                        `json:"min_encryption_version"`
	LatestVersion        int                        `json:"latest_version"`
	Keys                 map[string]json.RawMessage `json:"keys"`
}

// readKey reads a transit key's description; what names it in errors
// ("seal key"). A missing key wraps hsm.ErrKeyNotFound.
func (k *Keystore) readKey(ctx context.Context, what, name string) (transitKey, error) {
	data, err := k.c.Read(ctx, k.cfg.Mount+"/keys/"+name, k.cfg.Mount)
	if err == nil && data == nil {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		return transitKey{}, fmt.Errorf("%s %q on transit mount %q at %s: %w", what, name, k.cfg.Mount, k.cfg.Address, hsm.ErrKeyNotFound)
	}
	if err != nil {
		return transitKey{}, fmt.Errorf("read %s %q on transit mount %q: %w", what, name, k.cfg.Mount, err)
	}
	var tk transitKey
	if err := remarshal(data, &tk); err != nil {
		return transitKey{}, fmt.Errorf("read %s %q on transit mount %q: %w", what, name, k.cfg.Mount, err)
	}
	return tk, nil
}

// checkPolicy enforces DESIGN.md §4 on a transit key: the expected type,
// never exportable nor backed up in plaintext, not deletable (a deleted
// seal key loses every share it sealed; one a token can delete is a
// ransom), not derived, and version keyVersion usable. Vault lets an
// operator change deletion_allowed later, and exportable and
// allow_plaintext_backup once from false to true, so Open checks at every
// start, not only Provision.
func (tk transitKey) checkPolicy(wantType string) error {
	var errs []error
	if tk.Type != wantType {
		errs = append(errs, fmt.Errorf("type is %q, want %q", tk.Type, wantType))
	}
	if tk.Exportable {
		errs = append(errs, errors.New("exportable is true"))
	}
	if tk.AllowPlaintextBackup {
		errs = append(errs, errors.New("allow_plaintext_backup is true"))
	}
	if tk.DeletionAllowed {
		errs = append(errs, errors.New("deletion_allowed is true (set it false in MOUNT/keys/NAME/config)"))
	}
	if tk.Derived {
		errs = append(errs, errors.New("derived is true (keys derived from a context are not used)"))
	}
	if tk.MinDecryptionVersion > keyVersion || tk.MinEncryptionVersion > keyVersion {
		errs = append(errs, fmt.Errorf("min_decryption_version %d / min_encryption_version %d exclude version %d, which sealed this node's blobs",
			tk.MinDecryptionVersion, tk.MinEncryptionVersion, keyVersion))
	}
	if _, ok := tk.Keys[strconv.Itoa(keyVersion)]; !ok {
		errs = append(errs, fmt.Errorf("version %d is missing", keyVersion))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", hsm.ErrKeyPolicy, err)
	}
	return nil
}

// loadKeys reads and checks both keys and the identity public key.
func (k *Keystore) loadKeys(ctx context.Context) error {
	seal, err := k.readKey(ctx, "seal key", k.cfg.SealKey)
	if err != nil {
		return err
	}
	if err := seal.checkPolicy(sealKeyType); err != nil {
		return fmt.Errorf("check seal key %q on transit mount %q: %w", k.cfg.SealKey, k.cfg.Mount, err)
	}
	id, err := k.readKey(ctx, "identity key", k.cfg.IdentityKey)
	if err != nil {
		return err
	}
	if err := id.checkPolicy(identityKeyType); err != nil {
		return fmt.Errorf("check identity key %q on transit mount %q: %w", k.cfg.IdentityKey, k.cfg.Mount, err)
	}
	pub, err := id.ed25519Public()
	if err != nil {
		return fmt.Errorf("read identity key %q on transit mount %q: %w", k.cfg.IdentityKey, k.cfg.Mount, err)
	}
	k.identity = &identitySigner{k: k, pub: pub}
	return nil
}

// ed25519Public decodes the public key of version keyVersion.
func (tk transitKey) ed25519Public() (ed25519.PublicKey, error) {
	var v struct {
		PublicKey string `json:"public_key"`
	}
	if err := json.Unmarshal(tk.Keys[strconv.Itoa(keyVersion)], &v); err != nil {
		return nil, fmt.Errorf("decode version %d: %w", keyVersion, err)
	}
	pub, err := base64.StdEncoding.DecodeString(v.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("version %d: public key is not %d base64 bytes", keyVersion, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(pub), nil
}

// remarshal decodes Vault's response data into a typed value.
func remarshal(data map[string]any, v any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode vault answer: %w", err)
	}
	return nil
}
