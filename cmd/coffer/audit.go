package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/audit"
)

func newAuditCmd(clusterPath *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Fetch nodes' tamper-evident audit logs and check them offline",
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditExportCmd(clusterPath), newAuditTrustCmd(clusterPath))
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var trustPath string
	var since []string
	cmd := &cobra.Command{
		Use:   "verify BUNDLE... [--trust TRUST] [--since CHECKPOINT]...",
		Short: "Verify audit bundles offline: signatures, every entry, consistency, t+1 decisions",
		Long: `Verify one or more nodes' audit bundles (files, or directories of bundle
files) offline, from the files alone:

  - every checkpoint is signed by its node's trusted key and every
    cosignature by a trusted key is valid; no node signed two roots for
    one size (a fork);
  - every entry decodes, sits at its index and hashes to the signed roots:
    nothing was changed, removed, inserted, reordered or cut off;
  - each log extends the auditor's previous checkpoints (--since);
  - every signature produced is backed by allow decisions for its request
    and session in at least t+1 nodes' logs.

TRUST is a YAML file naming the nodes' note verifier keys, t and the
cosignatures required:

  threshold: 1
  min_cosignatures: 1
  nodes:
    - coffer/prod/node1+1a2b3c4d+AYv...

Without --trust the keys the bundles state are used, which proves integrity
but not authorship; the report says so. It prints a report and exits
non-zero on any failure, naming the first bad entry.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := bundlePaths(args)
			if err != nil {
				return err
			}
			var bundles []*audit.Bundle
			for _, p := range paths {
				f, err := os.Open(p)
				if err != nil {
					return fmt.Errorf("audit verify: %w", err)
				}
				defer f.Close()
				b, err := audit.ReadBundle(p, f)
				if err != nil {
					return fmt.Errorf("audit verify: %w", err)
				}
				bundles = append(bundles, b)
			}
			var trust *audit.Trust
			if trustPath != "" {
				f, err := os.Open(trustPath)
				if err != nil {
					return fmt.Errorf("audit verify: %w", err)
				}
				trust, err = audit.ParseTrust(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("audit verify: %s: %w", trustPath, err)
				}
			}
			var notes [][]byte
			for _, p := range since {
				note, err := readSmallFile(p, audit.MaxCheckpointSize)
				if err != nil {
					return fmt.Errorf("audit verify: --since: %w", err)
				}
				notes = append(notes, note)
			}
			rep, verr := audit.Verify(cmd.Context(), bundles, trust, notes)
			if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			if verr != nil {
				return fmt.Errorf("audit verify failed: %w", verr)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&trustPath, "trust", "", "trust file: the nodes' verifier keys, t, min_cosignatures")
	f.StringArrayVar(&since, "since", nil, "a signed checkpoint from your previous audit (repeatable, one per node)")
	return cmd
}

// bundlePaths expands directories into the regular files they hold,
// sorted.
func bundlePaths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("audit verify: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("audit verify: %w", err)
		}
		var files []string
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(a, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("audit verify: directory %s holds no bundle", a)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New(path + ": larger than a checkpoint can be")
	}
	return b, nil
}
