package devcluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// WithNode opens a stopped node's config, HSM and store in this process.
func (l *Layout) WithNode(id string, f func(cfg *signer.Config, d signer.Deps) error) error {
	n, err := l.Node(id)
	if err != nil {
		return err
	}
	cfg, err := signer.LoadConfig(l.Path(n.Config))
	if err != nil {
		return err
	}
	d, closeDeps, err := signer.OpenDeps(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer closeDeps()
	return f(cfg, d)
}

// ImportPreParams seals pre-parameter sets from file into stopped nodes'
// pools: sets[node] lists the indexes each node gets.
func (l *Layout) ImportPreParams(ctx context.Context, file string, sets map[string][]int) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read pre-params: %w", err)
	}
	for id, idx := range sets {
		err := l.WithNode(id, func(cfg *signer.Config, d signer.Deps) error {
			_, err := signer.ImportPreParams(ctx, cfg, d, raw, idx)
			return err
		})
		if err != nil {
			return fmt.Errorf("import pre-params into %s: %w", id, err)
		}
	}
	return nil
}

// UnsealShare opens a stopped node's share of a key (benchmark, tests).
func (l *Layout) UnsealShare(ctx context.Context, id, keyID string) (*ctss.Share, error) {
	var sh *ctss.Share
	err := l.WithNode(id, func(cfg *signer.Config, d signer.Deps) error {
		var err error
		sh, err = signer.UnsealShare(ctx, cfg, d, keyID)
		return err
	})
	return sh, err
}
