package signer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cofferhq/coffer/hsm/pkcs11"
	"github.com/cofferhq/coffer/ledger"
)

// OpenDeps opens the node's HSM keystore and store as its config says.
// The returned close function closes both.
func OpenDeps(cfg *Config, log *slog.Logger) (Deps, func() error, error) {
	if cfg.HSM.SoftHSM2Conf != "" {
		if err := os.Setenv("SOFTHSM2_CONF", cfg.HSM.SoftHSM2Conf); err != nil {
			return Deps{}, nil, fmt.Errorf("set SOFTHSM2_CONF: %w", err)
		}
	}
	ks, err := pkcs11.Open(cfg.HSM.PKCS11, log)
	if err != nil {
		return Deps{}, nil, fmt.Errorf("open HSM for %s: %w", cfg.Node, err)
	}
	st, err := ledger.Open(cfg.Store.Path, ledger.Options{}, log)
	if err != nil {
		_ = ks.Close()
		return Deps{}, nil, fmt.Errorf("open store for %s: %w", cfg.Node, err)
	}
	closeFn := func() error { return errors.Join(st.Close(), ks.Close()) }
	return Deps{Keystore: ks, Store: st, Log: log}, closeFn, nil
}

// NewLogger builds the node's JSON logger at the configured level.
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
