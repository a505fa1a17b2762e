package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cofferhq/coffer/hsm"
)

// Provision creates the node's two transit keys on the mount cfg names:
// SealKey (aes256-gcm96) and IdentityKey (ed25519), neither exportable nor
// allowed a plaintext backup, and returns the identity public key for the
// cluster's member list and the node certificate. It refuses (wrapping
// hsm.ErrKeyExists) when either key exists, creating neither. The token
// needs "create" or "update" on MOUNT/keys/NAME; a running node needs only
// "read" there and "update" on encrypt, decrypt and sign.
func Provision(ctx context.Context, cfg Config, logger *slog.Logger) (ed25519.PublicKey, error) {
	if logger == nil {
		return nil, errors.New("provision vault keys: missing logger")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("provision vault keys: %w", err)
	}
	log := logger.With("component", "hsm/vault", "mount", cfg.Mount)
	c, err := Dial(ctx, cfg.Connection, log)
	if err != nil {
		return nil, fmt.Errorf("provision vault keys: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	keys := []struct{ what, name, typ string }{
		{"seal key", cfg.SealKey, sealKeyType},
		{"identity key", cfg.IdentityKey, identityKeyType},
	}
	for _, key := range keys {
		data, err := c.Read(ctx, cfg.Mount+"/keys/"+key.name, cfg.Mount)
		switch {
		case err == nil && data != nil:
			return nil, fmt.Errorf("provision vault keys: %s %q on transit mount %q at %s: %w", key.what, key.name, cfg.Mount, cfg.Address, hsm.ErrKeyExists)
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("provision vault keys: read %s %q: %w", key.what, key.name, err)
		}
	}
	for _, key := range keys {
		body := map[string]any{"type": key.typ, "exportable": false, "allow_plaintext_backup": false}
		if _, err := c.Write(ctx, cfg.Mount+"/keys/"+key.name, cfg.Mount, `"create", "update"`, body); err != nil {
			return nil, fmt.Errorf("provision vault keys: create %s %q on transit mount %q: %w", key.what, key.name, cfg.Mount, err)
		}
		log.Info("transit key created", "key", key.name, "type", key.typ)
	}
	k := &Keystore{cfg: cfg, log: log, c: c}
	id, err := k.readKey(ctx, "identity key", cfg.IdentityKey)
	if err != nil {
		return nil, fmt.Errorf("provision vault keys: %w", err)
	}
	pub, err := id.ed25519Public()
	if err != nil {
		return nil, fmt.Errorf("provision vault keys: identity key %q: %w", cfg.IdentityKey, err)
	}
	return pub, nil
}
