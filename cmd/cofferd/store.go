package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"

	"github.com/cofferhq/coffer/internal/storecheck"
	"github.com/cofferhq/coffer/internal/storerestore"
	"github.com/cofferhq/coffer/signer"
)

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "Check, snapshot and restore the node's store (stop the node first)"}
	var cfgPath string
	check := &cobra.Command{
		Use:   "check",
		Short: "Check that node.db is whole: bbolt's consistency check, every audit entry against the signed checkpoint, the checkpoint file; exit status 1 on damage",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := signer.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			log := signer.NewLogger(cfg.Log.Level)
			rep, err := storecheck.Check(cmd.Context(), cfg.Store.Path, storecheck.Options{}, log.With("component", "storecheck"))
			if err != nil {
				return err
			}
			if rep.NewFile {
				return fmt.Errorf("check store: %s does not exist", cfg.Store.Path)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: whole: %d bytes, %d buckets, %d keys, %d audit entries match the signed checkpoint (%v)\n",
				rep.Path, rep.Bytes, rep.Buckets, rep.Keys, rep.AuditEntries, rep.Took.Round(1e6))
			return nil
		},
	}
	check.Flags().StringVar(&cfgPath, "config", "", "node config file (required)")
	_ = check.MarkFlagRequired("config")

	var snapCfg, snapOut string
	snapshot := &cobra.Command{
		Use:   "snapshot --config node.yaml --out FILE",
		Short: "Write a consistent copy of a stopped node's store (ledger and audit log) to FILE; a running node's with `coffer backup --snapshot`",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := signer.LoadConfig(snapCfg)
			if err != nil {
				return err
			}
			db, err := bolt.Open(cfg.Store.Path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
			if err != nil {
				return fmt.Errorf("snapshot %s: %w (stop the node first, or use `coffer backup --snapshot` on a running one)", cfg.Store.Path, err)
			}
			defer db.Close()
			n, err := storerestore.WriteFile(snapOut, func(w io.Writer) (int64, error) { return storerestore.Snapshot(db, w) })
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "snapshot of %s: %d bytes -> %s\n", cfg.Store.Path, n, snapOut)
			return nil
		},
	}
	snapshot.Flags().StringVar(&snapCfg, "config", "", "node config file (required)")
	snapshot.Flags().StringVar(&snapOut, "out", "", "snapshot file to write (required)")
	_ = snapshot.MarkFlagRequired("config")
	_ = snapshot.MarkFlagRequired("out")

	var resCfg, resFrom, resTail string
	restore := &cobra.Command{
		Use:   "restore --config node.yaml (--from SNAPSHOT [--audit-tail BUNDLE|STORE] | --audit-tail BUNDLE)",
		Short: "Put a snapshot back in place of a stopped node's store (README, \"Restoring a node\")",
		Long: "Checks the snapshot is whole and this node's, puts back the audit entries it lacks from --audit-tail " +
			"(a bundle of this node's log, or the damaged store itself), each checked against the node's own signed checkpoints, " +
			"and refuses unless the audit log then reaches the checkpoint the node signed last. Only then are the damaged store " +
			"and the raft directory moved aside (kept, renamed .before-restore-TIME) and the snapshot put in place. " +
			"Start the node afterwards: it catches up from the cluster's log. Without --from (a store lost whole and no snapshot), " +
			"the audit log is rebuilt from --audit-tail alone and the ledger and sealed shares come from the cluster's log.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := signer.LoadConfig(resCfg)
			if err != nil {
				return err
			}
			origin, key, err := signer.OwnAuditKey(cfg)
			if err != nil {
				return err
			}
			log := signer.NewLogger(cfg.Log.Level).With("component", "restore")
			res, err := storerestore.Restore(cmd.Context(), storerestore.Options{
				Path: cfg.Store.Path, RaftDir: cfg.Store.RaftDir, Snapshot: resFrom, AuditTail: resTail,
				Origin: origin, Key: key, Now: time.Now(),
			}, log)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			from := resFrom
			if from == "" {
				from = "an empty store and " + resTail
			}
			fmt.Fprintf(out, "restored %s from %s: %d bytes, audit log of %d entries (%d put back from the tail; the checkpoint file records %d)\n",
				cfg.Store.Path, from, res.Bytes, res.AuditSize, res.Tail.To-res.Tail.From, res.Mark)
			if res.MovedStore != "" {
				fmt.Fprintf(out, "the old store is kept as %s\n", res.MovedStore)
			}
			if res.MovedRaft != "" {
				fmt.Fprintf(out, "the old raft directory is kept as %s\n", res.MovedRaft)
			}
			fmt.Fprintln(out, "start the node: it catches up from the cluster's replicated log before it votes or signs")
			return nil
		},
	}
	restore.Flags().StringVar(&resCfg, "config", "", "node config file (required)")
	restore.Flags().StringVar(&resFrom, "from", "", "snapshot file (coffer backup --snapshot, cofferd store snapshot)")
	restore.Flags().StringVar(&resTail, "audit-tail", "", "a bundle of this node's audit log (coffer audit export), or a store file whose audit log still reads")
	_ = restore.MarkFlagRequired("config")

	cmd.AddCommand(check, snapshot, restore)
	return cmd
}
