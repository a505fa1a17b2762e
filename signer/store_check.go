package signer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cofferhq/coffer/internal/storecheck"
)

// CheckStore checks that the node's store (cfg.Store.Path) is whole:
// bbolt's consistency check over every page, every audit entry rehashed
// against the latest signed checkpoint, and that checkpoint against the
// checkpoint file beside the store (internal/storecheck). A damaged store
// is one line naming the file, where and what to do, wrapping
// storecheck.ErrDamaged; faults of the mapped file are errors, not a
// crash. A store another process holds is storecheck.ErrLocked.
func CheckStore(ctx context.Context, cfg *Config, log *slog.Logger) error {
	_, err := storecheck.Check(ctx, cfg.Store.Path, storecheck.Options{}, log.With("component", "storecheck"))
	switch {
	case errors.Is(err, storecheck.ErrDamaged):
		log.Error("store damaged", "path", cfg.Store.Path, "err", err)
		return fmt.Errorf("%w — the node will not start", err)
	case err != nil:
		return fmt.Errorf("check store of %s: %w", cfg.Node, err)
	}
	return nil
}
