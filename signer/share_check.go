package signer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/internal/secmem"
	"github.com/cofferhq/coffer/internal/storecheck"
)

// shareCheckTimeout bounds each HSM call of the check at start: an HSM
// that does not answer delays the start, never stops it.
const shareCheckTimeout = 30 * time.Second

// checkShares opens each of this node's sealed shares with its HSM once,
// at start, and clears the plaintext at once (the same exposure as one
// signing session): bbolt keeps no checksums, and a share whose blob the
// disk changed would otherwise be found only when a session needs it. A
// record that does not decode, or a blob whose tag does not verify, is
// damage of the store (storecheck.Damage naming the file, the bucket and
// the key): the node does not start. An HSM that does not answer is not
// the store's fault; the node starts and logs it.
func (n *Node) checkShares(ctx context.Context) error {
	recs, err := n.store.Keys()
	if err != nil {
		return &storecheck.Damage{File: n.store.Path(), Where: "bucket keys", Detail: err.Error(), Err: err}
	}
	checked := 0
	for _, r := range recs {
		if len(r.SealedShare) == 0 {
			continue
		}
		octx, cancel := context.WithTimeout(ctx, shareCheckTimeout)
		plain, err := n.ks.Open(octx, ShareAAD(n.cfg.Cluster, n.cfg.Node, r.ID, r.Generation), r.SealedShare)
		cancel()
		secmem.Free(plain)
		switch {
		case err == nil:
			checked++
		case errors.Is(err, hsm.ErrUnseal) && !errors.Is(err, hsm.ErrUnavailable):
			n.log.Error("node store damaged: the sealed share does not open", "bucket", "keys", "key", r.ID,
				"generation", r.Generation, "path", n.store.Path(), "err", err)
			return &storecheck.Damage{File: n.store.Path(), Where: fmt.Sprintf("bucket keys, key %s", r.ID),
				Detail: fmt.Sprintf("the sealed share (generation %d) does not open with this node's HSM key", r.Generation), Err: err}
		default:
			n.log.Warn("could not check a sealed share at start: the HSM did not answer", "key", r.ID, "err", err)
		}
	}
	n.log.Info("sealed shares checked", "keys", checked)
	return nil
}
