package signer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/secmem"
	"github.com/cofferhq/coffer/ledger"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// takePreParams unseals one pooled set. With an empty pool it generates a
// set on the spot when the config allows it (slow: safe primes).
func (n *Node) takePreParams(ctx context.Context) (*ctss.PreParams, error) {
	blob, err := n.store.TakePreParams()
	if errors.Is(err, ledger.ErrPoolEmpty) && n.cfg.PreParams.Generate {
		n.log.Warn("pre-parameter pool empty: generating safe primes now (slow)")
		return ctss.GeneratePreParams(ctx, n.cfg.PreParams.Concurrency)
	}
	if err != nil {
		return nil, err
	}
	plain, err := n.ks.Open(ctx, PreParamsAAD(n.cfg.Cluster, n.cfg.Node), blob)
	if err != nil {
		return nil, fmt.Errorf("unseal pre-params: %w", err)
	}
	defer secmem.Free(plain)
	return ctss.UnmarshalPreParams(plain)
}

// AddPreParams seals pre-parameters into this node's pool.
func (n *Node) AddPreParams(ctx context.Context, pp *ctss.PreParams) error {
	plain, err := ctss.MarshalPreParams(pp)
	if err != nil {
		return err
	}
	defer secmem.Free(plain)
	blob, err := n.ks.Seal(ctx, PreParamsAAD(n.cfg.Cluster, n.cfg.Node), plain)
	if err != nil {
		return fmt.Errorf("seal pre-params: %w", err)
	}
	return n.store.AddPreParams(blob)
}

// ImportPreParams seals the chosen sets of a JSON array of pre-parameters
// (as written by signer/tss/internal/genfixtures) into a stopped node's
// pool: development clusters and tests.
func ImportPreParams(ctx context.Context, cfg *Config, d Deps, raw []byte, take []int) (int, error) {
	n := &Node{cfg: cfg, ks: d.Keystore, store: d.Store, log: d.Log}
	return n.importPreParams(ctx, raw, take)
}

func (n *Node) importPreParams(ctx context.Context, raw []byte, take []int) (int, error) {
	var sets []json.RawMessage
	if err := json.Unmarshal(raw, &sets); err != nil {
		return 0, fmt.Errorf("import pre-params: %w", err)
	}
	// check everything before sealing anything
	seen := map[int]bool{}
	pps := make([]*ctss.PreParams, 0, len(take))
	for _, i := range take {
		if i < 0 || i >= len(sets) || seen[i] {
			for _, pp := range pps {
				ctss.ZeroPreParams(pp)
			}
			return 0, fmt.Errorf("import pre-params: set %d is out of range (file has %d) or repeated", i, len(sets))
		}
		seen[i] = true
		pp, err := ctss.UnmarshalPreParams(sets[i])
		if err != nil {
			for _, pp := range pps {
				ctss.ZeroPreParams(pp)
			}
			return 0, fmt.Errorf("import pre-params: set %d: %w", i, err)
		}
		pps = append(pps, pp)
	}
	count := 0
	for _, pp := range pps {
		err := n.AddPreParams(ctx, pp)
		ctss.ZeroPreParams(pp)
		if err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

// fillPool keeps the pool at its target size in the background.
func (n *Node) fillPool(ctx context.Context) error {
	if !n.cfg.PreParams.Generate || n.cfg.PreParams.PoolSize == 0 {
		return nil
	}
	for {
		have, err := n.store.PreParamsCount()
		if err != nil {
			return fmt.Errorf("fill pre-param pool: %w", err)
		}
		if have >= n.cfg.PreParams.PoolSize {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(5 * time.Second):
				continue
			}
		}
		start := time.Now()
		pp, err := ctss.GeneratePreParams(ctx, n.cfg.PreParams.Concurrency)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			n.log.Error("generate pre-params", "err", err)
			continue
		}
		err = n.AddPreParams(ctx, pp)
		ctss.ZeroPreParams(pp)
		if err != nil {
			n.log.Error("pool pre-params", "err", err)
			continue
		}
		n.log.Info("pre-parameters pooled", "pooled", have+1, "target", n.cfg.PreParams.PoolSize, "took", time.Since(start).Round(time.Second).String())
	}
}
