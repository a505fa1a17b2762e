package signer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/internal/secmem"
	"github.com/cofferhq/coffer/signer/gate"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// ShareAAD is the associated data a share is sealed under: it binds the
// blob to its cluster, node, key and generation (DESIGN.md §4), so a blob
// copied to another node, key or slot fails to open. It is part of the
// sealed format and never changes within a major version.
func ShareAAD(cluster, node, keyID string, generation uint32) []byte {
	return aad("share", cluster, node, keyID, generation)
}

// PreParamsAAD is the associated data pre-parameters are sealed under.
func PreParamsAAD(cluster, node string) []byte {
	return aad("preparams", cluster, node, "", 0)
}

func aad(purpose, cluster, node, keyID string, generation uint32) []byte {
	var b []byte
	b = append(b, "coffer/seal/v1"...)
	for _, f := range []string{purpose, cluster, node, keyID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint32(b, generation)
}

// sealShare seals a share for this node and zeroes the plaintext encoding.
func (n *Node) sealShare(ctx context.Context, keyID string, gen uint32, sh *ctss.Share) ([]byte, error) {
	plain, err := ctss.MarshalShare(sh)
	if err != nil {
		return nil, err
	}
	defer secmem.Free(plain)
	blob, err := n.ks.Seal(ctx, ShareAAD(n.cfg.Cluster, n.cfg.Node, keyID, gen), plain)
	if err != nil {
		return nil, fmt.Errorf("seal share of %s: %w", keyID, err)
	}
	return blob, nil
}

// openShare unseals this node's share of a key for one session.
func (n *Node) openShare(ctx context.Context, keyID string, gen uint32, blob, pub []byte) (*ctss.Share, error) {
	plain, err := n.ks.Open(ctx, ShareAAD(n.cfg.Cluster, n.cfg.Node, keyID, gen), blob)
	if errors.Is(err, hsm.ErrUnseal) && !errors.Is(err, hsm.ErrUnavailable) {
		// the HSM answered and the blob does not open: the record is damaged
		// (or not this node's); said here, on the node that holds it
		n.log.Error("node store damaged: the sealed share does not open; restore it (README, \"Restoring a node\")",
			"bucket", "keys", "key", keyID, "generation", gen, "path", n.store.Path(), "err", err)
		return nil, fmt.Errorf("unseal share of %s generation %d: %w: %w", keyID, gen, gate.ErrStoreDamaged, err)
	}
	if err != nil {
		return nil, fmt.Errorf("unseal share of %s: %w", keyID, err)
	}
	defer secmem.Free(plain)
	return ctss.UnmarshalShare(plain, pub)
}

// UnsealShare opens this node's share of a key from a stopped node's store
// with its HSM: for offline tools that hold the node's PIN (the benchmark's
// raw baseline, tests that search the store for plaintext). A running node
// never calls it.
func UnsealShare(ctx context.Context, cfg *Config, d Deps, keyID string) (*ctss.Share, error) {
	n := &Node{cfg: cfg, ks: d.Keystore, store: d.Store, log: d.Log}
	rec, err := n.store.Key(keyID)
	if err != nil {
		return nil, err
	}
	if rec.SealedShare == nil {
		return nil, fmt.Errorf("unseal share of %s: %s holds none", keyID, cfg.Node)
	}
	return n.openShare(ctx, rec.ID, rec.Generation, rec.SealedShare, rec.PublicKey)
}
