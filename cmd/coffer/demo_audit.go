package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/signer"
)

// audit stops the nodes, exports every node's audit log from its store and
// verifies all of them together, offline, as an auditor would: signatures
// of the checkpoints under the nodes' HSM identity keys, every entry's
// inclusion, and every signature backed by t+1 nodes' decisions.
func (s *story) audit(c *devcluster.Cluster) error {
	step(s.w, "audit: every node's log exported and verified offline (checkpoints signed in the HSMs and cosigned by a peer, Merkle inclusion, t+1 decisions behind every signature)")
	// the last checkpoints must be cosigned before the nodes stop: the
	// verification below requires a cosignature on every node's latest
	if err := c.WaitCosigned(s.ctx, 1, 30*time.Second); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	c.Stop()
	l := c.Layout
	dir := filepath.Join(l.Dir, "audit")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg, err := signer.LoadConfig(l.Path(l.Nodes[0].Config))
	if err != nil {
		return err
	}
	keys, err := signer.AuditVerifierKeys(cfg) // pinned from the members' HSM identity keys
	if err != nil {
		return err
	}
	var bundles []*audit.Bundle
	for _, n := range l.Nodes {
		db, err := bolt.Open(l.Path(n.Store), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		err = audit.Export(s.ctx, db, &buf)
		db.Close()
		if err != nil {
			return fmt.Errorf("export %s: %w", n.ID, err)
		}
		path := filepath.Join(dir, n.ID+".bundle")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return err
		}
		b, err := audit.ReadBundle(path, bytes.NewReader(buf.Bytes()))
		if err != nil {
			return err
		}
		bundles = append(bundles, b)
	}
	trust, err := audit.NewTrust(1, 1, keys...) // t = 1, one cosignature at least
	if err != nil {
		return err
	}
	rep, err := audit.Verify(s.ctx, bundles, trust, nil)
	rep.WriteText(indent{s.w})
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintf(s.w, "  ✓ %d signatures, %d backed by t+1 nodes' allow decisions; bundles in %s\n", rep.Signatures, rep.Backed, dir)
	return nil
}

type indent struct {
	w interface{ Write([]byte) (int, error) }
}

func (i indent) Write(p []byte) (int, error) {
	out := bytes.ReplaceAll(p, []byte("\n"), []byte("\n    "))
	if _, err := i.w.Write(append([]byte("    "), bytes.TrimSuffix(out, []byte("    "))...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
