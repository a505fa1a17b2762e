package signer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/internal/storecheck"
	"github.com/cofferhq/coffer/ledger"
)

// OpenDeps opens the node's HSM keystore and store as its config says,
// after checking the store is whole (CheckStore): a damaged store refuses
// to start. The returned close function closes both.
func OpenDeps(cfg *Config, log *slog.Logger) (Deps, func() error, error) {
	ks, err := OpenKeystore(context.Background(), cfg, log)
	if err != nil {
		return Deps{}, nil, err
	}
	if err := CheckStore(context.Background(), cfg, log); err != nil {
		_ = ks.Close()
		return Deps{}, nil, err
	}
	var st *ledger.Store
	err = storecheck.Guard(cfg.Store.Path, func() string { return "opening the ledger" }, func() (err error) {
		st, err = ledger.Open(cfg.Store.Path, ledger.Options{}, log)
		return err
	})
	if err != nil {
		_ = ks.Close()
		return Deps{}, nil, fmt.Errorf("open store for %s: %w", cfg.Node, err)
	}
	closeFn := func() error { return errors.Join(st.Close(), ks.Close()) }
	return Deps{Keystore: ks, Store: st, Log: log}, closeFn, nil
}

// OpenKeystore opens the keystore of the backend cfg.HSM.Backend names:
// a PKCS#11 token or Vault transit.
func OpenKeystore(ctx context.Context, cfg *Config, log *slog.Logger) (hsm.Keystore, error) {
	switch cfg.HSM.Backend {
	case BackendVault:
		ks, err := vault.Open(ctx, cfg.HSM.Vault, log)
		if err != nil {
			return nil, fmt.Errorf("open HSM (vault) for %s: %w", cfg.Node, err)
		}
		return ks, nil
	case BackendPKCS11, "":
		if err := setSoftHSM2Conf(cfg); err != nil {
			return nil, err
		}
		ks, err := pkcs11.Open(cfg.HSM.PKCS11, log)
		if err != nil {
			return nil, fmt.Errorf("open HSM for %s: %w", cfg.Node, err)
		}
		return ks, nil
	default:
		return nil, fmt.Errorf("open HSM for %s: hsm.backend %q is not supported (pkcs11, vault)", cfg.Node, cfg.HSM.Backend)
	}
}

// ProvisionHSM creates the node's sealing and identity keys in the backend
// its config names and returns the identity public key (`cofferd hsm init`).
// It refuses, wrapping hsm.ErrKeyExists, when a key exists.
func ProvisionHSM(ctx context.Context, cfg *Config, log *slog.Logger) (ed25519.PublicKey, error) {
	switch cfg.HSM.Backend {
	case BackendVault:
		return vault.Provision(ctx, cfg.HSM.Vault, log)
	case BackendPKCS11, "":
		if err := setSoftHSM2Conf(cfg); err != nil {
			return nil, err
		}
		return pkcs11.Provision(cfg.HSM.PKCS11, log)
	default:
		return nil, fmt.Errorf("provision HSM for %s: hsm.backend %q is not supported (pkcs11, vault)", cfg.Node, cfg.HSM.Backend)
	}
}

// HardenHSM turns off what an older provisioning left on the node's PKCS#11
// keys and Open now refuses (wrap, unwrap, derive), and checks both keys as
// Open does (pkcs11.Harden). Vault transit keys have no such attributes.
func HardenHSM(cfg *Config, log *slog.Logger) ([]string, error) {
	if cfg.HSM.Backend != BackendPKCS11 && cfg.HSM.Backend != "" {
		return nil, fmt.Errorf("harden HSM keys of %s: only for hsm.backend pkcs11 (Vault checks its transit keys at start)", cfg.Node)
	}
	if err := setSoftHSM2Conf(cfg); err != nil {
		return nil, err
	}
	return pkcs11.Harden(cfg.HSM.PKCS11, log)
}

func setSoftHSM2Conf(cfg *Config) error {
	if cfg.HSM.SoftHSM2Conf != "" {
		if err := os.Setenv("SOFTHSM2_CONF", cfg.HSM.SoftHSM2Conf); err != nil {
			return fmt.Errorf("set SOFTHSM2_CONF: %w", err)
		}
	}
	return nil
}

// NewLogger builds the node's JSON logger at the configured level.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
