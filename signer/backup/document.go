package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/ledger"
)

// Format names the Document layout.
const Format = "coffer/backup/v1"

// Document is one backup: a node's sealed state and who it belongs to. It
// is stored as the data of a KV v2 secret.
type Document struct {
	Format  string `json:"format"`
	Cluster string `json:"cluster"`
	Node    string `json:"node"`
	// IdentityKey is the node's identity public key (hex) as its config
	// lists it, for operators: which HSM sealed these blobs.
	IdentityKey string    `json:"identity_key,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// Keys are the node's key records, each with its share sealed by the
	// node's HSM.
	Keys []ledger.KeyRecord `json:"keys"`
	// PreParams are the node's sealed pre-parameter sets, oldest first.
	PreParams [][]byte `json:"preparams"`
	// SHA256 is the hex SHA-256 of the document's JSON with SHA256 empty.
	SHA256 string `json:"sha256"`
}

// Node names the node a backup is taken from or restored into.
type Node struct {
	Cluster     string
	ID          string
	IdentityKey string // hex, optional
}

// newDocument wraps a node's sealed state and sets the digest.
func newDocument(n Node, s ledger.Sealed, now time.Time) (*Document, error) {
	d := &Document{Format: Format, Cluster: n.Cluster, Node: n.ID, IdentityKey: n.IdentityKey,
		CreatedAt: now.UTC(), Keys: s.Keys, PreParams: s.PreParams}
	sum, err := d.digest()
	if err != nil {
		return nil, err
	}
	d.SHA256 = sum
	return d, nil
}

func (d *Document) digest() (string, error) {
	c := *d
	c.SHA256 = ""
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode backup: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Sealed is the document's sealed state, for ledger.Store.RestoreSealed.
func (d *Document) Sealed() ledger.Sealed {
	return ledger.Sealed{Keys: d.Keys, PreParams: d.PreParams}
}

// Validate checks the format, the digest and every record, joining every
// problem under ErrCorrupt.
func (d *Document) Validate() error {
	var errs []error
	if d.Format != Format {
		errs = append(errs, fmt.Errorf("format %q, want %q", d.Format, Format))
	}
	if d.Cluster == "" || d.Node == "" {
		errs = append(errs, errors.New("cluster or node is empty"))
	}
	if sum, err := d.digest(); err != nil || sum != d.SHA256 {
		errs = append(errs, errors.New("sha256 does not match the content"))
	}
	for _, k := range d.Keys {
		if err := k.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range d.PreParams {
		if len(p) == 0 {
			errs = append(errs, fmt.Errorf("pre-parameter set %d is empty", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}
