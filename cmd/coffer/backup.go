package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/signer"
	"github.com/cofferhq/coffer/signer/backup"
)

// backupFlags are the flags backup and restore share.
type backupFlags struct {
	node, config, vaultConfig string
}

func (f *backupFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.node, "node", "", "node ID (required)")
	fl.StringVar(&f.config, "config", "", "the node's config file (default: the node's in --cluster)")
	fl.StringVar(&f.vaultConfig, "vault-config", "", "YAML file of the connection to the Vault that keeps backups: address, ca_file, timeout, auth "+
		"(required; for a node on Vault, another Vault than the one holding its keys)")
	_ = cmd.MarkFlagRequired("node")
}

// requireVault refuses a Vault backup or restore without --vault-config.
func (f *backupFlags) requireVault() error {
	if f.vaultConfig == "" {
		return errors.New("--vault-config is required")
	}
	return nil
}

func newBackupCmd(clusterPath *string) *cobra.Command {
	var f backupFlags
	var to, snapshot string
	cmd := &cobra.Command{
		Use:   "backup --node ID (--to vault://MOUNT/PATH --vault-config BACKUP-VAULT.yaml | --snapshot FILE)",
		Short: "Copy a stopped node's sealed shares and pre-parameters to Vault KV v2, or a running node's whole store to a snapshot file",
		Long: "With --to: reads the key records (with their sealed shares) and the sealed pre-parameter pool of a stopped node's store " +
			"and writes them, still sealed by the node's HSM, as a new version of a KV v2 secret. " +
			"Only that node's HSM can open them again, and only as that node.\n\n" +
			"With --snapshot: asks the running node (operator role) for a consistent copy of its whole store — ledger, " +
			"node-local state and audit log, sealed shares still sealed — and writes it to FILE (mode 0600, written whole or not at all). " +
			"`cofferd store restore` puts one back (README, \"Restoring a node\").",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if snapshot != "" {
				if to != "" || f.vaultConfig != "" {
					return errors.New("--snapshot writes a file: give it without --to and --vault-config")
				}
				return snapshotNode(cmd, *clusterPath, f.node, snapshot)
			}
			if to == "" {
				return errors.New("give --to vault://MOUNT/PATH (or --snapshot FILE)")
			}
			if err := f.requireVault(); err != nil {
				return err
			}
			loc, err := backup.ParseLocation(to)
			if err != nil {
				return err
			}
			cfg, err := f.nodeConfig(*clusterPath)
			if err != nil {
				return err
			}
			st, err := ledger.Open(cfg.Store.Path, ledger.Options{ReadOnly: true}, discardLogger())
			if err != nil {
				return storeError(cfg, err)
			}
			defer st.Close()
			kv, closeKV, err := f.dialKV(cmd.Context(), cfg, loc, true)
			if err != nil {
				return err
			}
			defer closeKV()
			r, err := backup.Backup(cmd.Context(), st, nodeOf(cfg), kv, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s (cluster %s): %d keys, %d pre-parameter sets, still sealed -> %s version %d\n",
				r.Node, r.Cluster, r.Keys, r.PreParams, r.Location, r.Version)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&to, "to", "", "backup location vault://MOUNT/PATH on a KV v2 engine")
	cmd.Flags().StringVar(&snapshot, "snapshot", "", "write a running node's whole store to this file instead")
	return cmd
}

func newRestoreCmd(clusterPath *string) *cobra.Command {
	var f backupFlags
	var from string
	var version int
	cmd := &cobra.Command{
		Use:   "restore --node ID --from vault://MOUNT/PATH --vault-config BACKUP-VAULT.yaml",
		Short: "Restore a node's sealed shares and pre-parameters from Vault KV v2 into its fresh store",
		Long: "Reads one version of a backup (default: the latest), checks it whole, and writes it into the stopped node's " +
			"store in one transaction. Refuses a backup of another node or cluster, a damaged backup, and a store that " +
			"already holds keys or pre-parameters; on any error the store is left as it was (a store file this command " +
			"created is removed).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.requireVault(); err != nil {
				return err
			}
			loc, err := backup.ParseLocation(from)
			if err != nil {
				return err
			}
			cfg, err := f.nodeConfig(*clusterPath)
			if err != nil {
				return err
			}
			kv, closeKV, err := f.dialKV(cmd.Context(), cfg, loc, false)
			if err != nil {
				return err
			}
			defer closeKV()
			// Check the whole backup before the store is touched.
			doc, r, err := backup.Fetch(cmd.Context(), kv, nodeOf(cfg), version)
			if err != nil {
				return err
			}
			_, statErr := os.Stat(cfg.Store.Path)
			created := errors.Is(statErr, os.ErrNotExist)
			st, err := ledger.Open(cfg.Store.Path, ledger.Options{}, discardLogger())
			if err != nil {
				return storeError(cfg, err)
			}
			err = backup.Apply(st, doc, r)
			if cerr := st.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("close store %s: %w", cfg.Store.Path, cerr)
			}
			if err != nil {
				if created {
					_ = os.Remove(cfg.Store.Path)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s (cluster %s) from %s version %d: %d keys, %d pre-parameter sets (backup of %s)\n",
				r.Node, r.Cluster, r.Location, r.Version, r.Keys, r.PreParams, r.CreatedAt.Format(time.RFC3339))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "backup location vault://MOUNT/PATH on a KV v2 engine (required)")
	cmd.Flags().IntVar(&version, "version", 0, "backup version to restore (default: the latest)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// nodeConfig loads the node's config from --config, or from the cluster
// layout, and checks it is the --node one.
func (f *backupFlags) nodeConfig(clusterPath string) (*signer.Config, error) {
	path := f.config
	if path == "" {
		l, err := clusterLayout(clusterPath)
		if err != nil {
			return nil, fmt.Errorf("%w (or give the node's config with --config)", err)
		}
		n, err := l.Node(f.node)
		if err != nil {
			return nil, err
		}
		path = l.Path(n.Config)
	}
	cfg, err := signer.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if cfg.Node != f.node {
		return nil, fmt.Errorf("config %s is of node %s, not %s", path, cfg.Node, f.node)
	}
	return cfg, nil
}

// dialKV logs in to the backup Vault that --vault-config names. Never with
// the node's own Vault connection: a node's credentials reach its keys
// only. A backup (write) is refused on the Vault that holds the node's
// seal key: that Vault's admins would then hold the sealed shares and the
// key that opens them (SECURITY.md, "Vault backend"); a restore may read
// from it, to recover a backup made before this rule.
func (f *backupFlags) dialKV(ctx context.Context, cfg *signer.Config, loc backup.Location, write bool) (*backup.KV, func(), error) {
	file, err := os.Open(f.vaultConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("read vault config: %w", err)
	}
	conn, err := vault.DecodeConnection(file)
	file.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("vault config %s: %w", f.vaultConfig, err)
	}
	if write && cfg.HSM.Backend == signer.BackendVault {
		backupVault, err1 := vault.TrustDomain(conn.Address)
		sealVault, err2 := vault.TrustDomain(cfg.HSM.Vault.Address)
		if err1 == nil && err2 == nil && backupVault == sealVault {
			return nil, nil, fmt.Errorf("%s keeps its keys in the Vault at %s: back it up to another Vault, "+
				"whose admins do not also hold the key that opens the sealed shares", cfg.Node, sealVault)
		}
	}
	c, err := vault.Dial(ctx, conn, discardLogger())
	if err != nil {
		return nil, nil, err
	}
	kv, err := backup.NewKV(c, loc)
	if err != nil {
		return nil, nil, err
	}
	closeFn := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.Close(cctx)
	}
	return kv, closeFn, nil
}

func nodeOf(cfg *signer.Config) backup.Node {
	n := backup.Node{Cluster: cfg.Cluster, ID: cfg.Node}
	for _, m := range cfg.Members {
		if m.ID == cfg.Node {
			n.IdentityKey = m.IdentityKey
		}
	}
	return n
}

func storeError(cfg *signer.Config, err error) error {
	if errors.Is(err, ledger.ErrLocked) {
		return fmt.Errorf("%s is running (its store %s is locked): stop it first: %w", cfg.Node, cfg.Store.Path, err)
	}
	return fmt.Errorf("open the store of %s: %w", cfg.Node, err)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
