package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/audit"
)

func newAuditExportCmd(clusterPath *string) *cobra.Command {
	var out string
	var cf clientFlags
	var cosignWait time.Duration
	cmd := &cobra.Command{
		Use:   "export --node NODE --out BUNDLE [--as NAME | --cert FILE --cert-key FILE]",
		Short: "Fetch a node's audit log as a bundle through its API (auditor or operator certificate)",
		Long: `Export streams one node's audit log through the node's audit API and
writes it to BUNDLE exactly as the node stores it: its signed checkpoints
with the cosignatures they collected, the other nodes' checkpoints it
cosigned, and every entry. The file is written only when the whole bundle
arrived. Nothing in it is trusted: check it with ` + "`coffer audit verify`" + `.

The client certificate needs the auditor or operator role: --as NAME uses
NAME.pem and NAME.key of the dev cluster folder (the dev treasury issues
auditor-1), --cert and --cert-key any files; by default the cluster's
operator certificate.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			c, cc, err := cf.dial(l, l.Operator.Name)
			if err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			defer c.Close()
			if !awaitCosigned(cmd.Context(), c.Audit(), cosignWait) {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s's latest checkpoint has no cosignature after %s; the entries after its last cosigned checkpoint will verify as pending\n", cf.node, cosignWait)
			}
			n, err := exportBundle(cmd.Context(), c.Audit(), out)
			if err != nil {
				return fmt.Errorf("audit export %s as %s: %w", cf.node, cc.Name, err)
			}
			f, err := os.Open(out)
			if err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			defer f.Close()
			b, err := audit.ReadBundle(out, f)
			if err != nil {
				return fmt.Errorf("audit export %s: the node sent a bundle that does not read: %w", cf.node, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %s (%s): %d bytes, %d checkpoints, %d cosigned for peers → %s\n",
				cf.node, b.Header.Origin, n, len(b.Checkpoints), len(b.Witnessed), out)
			return nil
		},
	}
	f := cmd.Flags()
	cf.register(f, "", "client certificate NAME.pem/NAME.key in the cluster folder, e.g. auditor-1 (default: the operator's)")
	f.StringVar(&out, "out", "", "bundle file to write (required)")
	f.DurationVar(&cosignWait, "cosign-wait", 10*time.Second, "wait at most this long for the node's latest checkpoint to be cosigned before exporting")
	f.Lookup("node").Usage = "node whose log to export (required)"
	_ = cmd.MarkFlagRequired("node")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// awaitCosigned waits (at most wait) until the node's latest checkpoint
// carries a cosignature, so that a bundle from a live node ends on a
// cosigned checkpoint more often than not; it reports whether it did.
func awaitCosigned(ctx context.Context, cl auditpb.AuditClient, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		cp, err := cl.Latest(ctx, &auditpb.LatestRequest{})
		if err == nil && len(cp.Cosigners) > 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// exportBundle streams the node's bundle into a temporary file next to
// out and renames it over out once the stream ended cleanly and the file
// is synced.
func exportBundle(ctx context.Context, cl auditpb.AuditClient, out string) (n int64, err error) {
	stream, err := cl.Export(ctx, &auditpb.ExportRequest{})
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("receive bundle after %d bytes: %w", n, err)
		}
		w, err := tmp.Write(chunk.Data)
		n += int64(w)
		if err != nil {
			return n, err
		}
	}
	if n == 0 {
		return 0, errors.New("the node sent an empty bundle")
	}
	if err := tmp.Sync(); err != nil {
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), out)
}
