package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/storecheck"
	"github.com/cofferhq/coffer/internal/storerestore"
)

// snapshotNode streams a running node's store snapshot into path.
func snapshotNode(cmd *cobra.Command, clusterPath, node, path string) error {
	l, err := clusterLayout(clusterPath)
	if err != nil {
		return err
	}
	c, err := l.Dial(node)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", node, err)
	}
	defer c.Close()
	stream, err := c.Operator.Snapshot(cmd.Context(), &operatorpb.SnapshotRequest{})
	if err != nil {
		return &apiError{what: "snapshot of " + node, err: err}
	}
	n, err := storerestore.WriteFile(path, func(w io.Writer) (int64, error) {
		var n int64
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			if err != nil {
				return n, &apiError{what: "snapshot of " + node, err: err}
			}
			k, err := w.Write(chunk.Data)
			n += int64(k)
			if err != nil {
				return n, err
			}
		}
	})
	if err != nil {
		return err
	}
	// a snapshot that does not check whole is no backup: say so now
	rep, err := storecheck.Check(cmd.Context(), path, storecheck.Options{}, discardLogger())
	if err != nil {
		return fmt.Errorf("snapshot of %s written to %s but it does not check whole: %w", node, path, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "snapshot of %s's store: %d bytes, %d keys, %d audit entries, checked whole -> %s\n",
		node, n, rep.Keys, rep.AuditEntries, path)
	return nil
}
