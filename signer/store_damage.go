package signer

import (
	"errors"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer/gate"
)

// ErrStoreDamaged means a record of this node's own store failed to decode
// (ledger.ErrCorrupt, audit.ErrCorrupt) or a sealed share failed to open:
// the node's fault, not the caller's input. Clients and peers are told
// "node store damaged"; this node logs the bucket and key at ERROR.
var ErrStoreDamaged = gate.ErrStoreDamaged

// storeDamaged reports whether err is damage of this node's store.
func storeDamaged(err error) bool {
	return errors.Is(err, ErrStoreDamaged) || errors.Is(err, ledger.ErrCorrupt) || errors.Is(err, audit.ErrCorrupt)
}

// logDamage logs err at ERROR, naming the bucket and key where known, if
// it is damage of this node's store; it reports whether it was.
func (n *Node) logDamage(err error, during string) bool {
	if !storeDamaged(err) {
		return false
	}
	attrs := []any{"during", during, "path", n.store.Path(), "err", err}
	var ce *ledger.CorruptError
	if errors.As(err, &ce) {
		attrs = append(attrs, "bucket", ce.Bucket, "key", ce.Key)
	}
	n.log.Error("node store damaged: restore it (README, \"Restoring a node\")", attrs...)
	return true
}
