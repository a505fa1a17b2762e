package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// Store is what backups need of a node's store (a *ledger.Store).
type Store interface {
	Sealed() (ledger.Sealed, error)
	RestoreSealed(ledger.Sealed) error
}

var _ Store = (*ledger.Store)(nil)

// Receipt says what a backup or restore copied.
type Receipt struct {
	Location  Location
	Version   int
	Cluster   string
	Node      string
	Keys      int
	PreParams int
	CreatedAt time.Time
}

// Backup reads the node's sealed state from st (one read transaction) and
// writes it to kv as a new version. Nothing is unsealed.
func Backup(ctx context.Context, st Store, n Node, kv *KV, now time.Time) (Receipt, error) {
	if st == nil || kv == nil {
		return Receipt{}, errors.New("back up: missing store or backup location")
	}
	if n.Cluster == "" || n.ID == "" {
		return Receipt{}, errors.New("back up: missing cluster or node name")
	}
	s, err := st.Sealed()
	if err != nil {
		return Receipt{}, fmt.Errorf("back up %s: %w", n.ID, err)
	}
	doc, err := newDocument(n, s, now)
	if err != nil {
		return Receipt{}, fmt.Errorf("back up %s: %w", n.ID, err)
	}
	v, err := kv.Put(ctx, doc)
	if err != nil {
		return Receipt{}, fmt.Errorf("back up %s: %w", n.ID, err)
	}
	return receipt(kv.loc, v, doc), nil
}

// Fetch reads one version of the backup at kv (0: the latest) and checks
// it whole: format, digest, every record, and that it is n's. It refuses a
// backup of another cluster or node (ErrWrongNode) and a damaged one
// (ErrCorrupt). It touches no store, so a tool can check a backup before
// it opens the node's store.
func Fetch(ctx context.Context, kv *KV, n Node, version int) (*Document, Receipt, error) {
	if kv == nil {
		return nil, Receipt{}, errors.New("restore: missing backup location")
	}
	doc, v, err := kv.Get(ctx, version)
	if err != nil {
		return nil, Receipt{}, fmt.Errorf("restore %s: %w", n.ID, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, Receipt{}, fmt.Errorf("restore %s from %s version %d: %w", n.ID, kv.loc, v, err)
	}
	if doc.Cluster != n.Cluster || doc.Node != n.ID {
		return nil, Receipt{}, fmt.Errorf("restore %s from %s version %d: %w: it is %s of cluster %s, whose shares are sealed for that node and would not unseal on %s of cluster %s",
			n.ID, kv.loc, v, ErrWrongNode, doc.Node, doc.Cluster, n.ID, n.Cluster)
	}
	return doc, receipt(kv.loc, v, doc), nil
}

// Apply writes a fetched backup into st in one transaction; it refuses a
// store that holds keys or pre-parameters already (ledger.ErrNotFresh), and
// on any error st is unchanged.
func Apply(st Store, doc *Document, r Receipt) error {
	if st == nil || doc == nil {
		return errors.New("restore: missing store or backup")
	}
	if err := st.RestoreSealed(doc.Sealed()); err != nil {
		return fmt.Errorf("restore %s from %s version %d: %w", doc.Node, r.Location, r.Version, err)
	}
	return nil
}

// Restore is Fetch then Apply.
func Restore(ctx context.Context, st Store, n Node, kv *KV, version int) (Receipt, error) {
	if st == nil {
		return Receipt{}, errors.New("restore: missing store")
	}
	doc, r, err := Fetch(ctx, kv, n, version)
	if err != nil {
		return Receipt{}, err
	}
	if err := Apply(st, doc, r); err != nil {
		return Receipt{}, err
	}
	return r, nil
}

func receipt(loc Location, v int, d *Document) Receipt {
	return Receipt{Location: loc, Version: v, Cluster: d.Cluster, Node: d.Node,
		Keys: len(d.Keys), PreParams: len(d.PreParams), CreatedAt: d.CreatedAt}
}
