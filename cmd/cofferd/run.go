package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/harden"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func newRunCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve the peer protocol and the client API (SIGHUP reloads tls.revoked)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := signer.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			log := signer.NewLogger(cfg.Log.Level)
			if h, err := harden.Read(); err != nil {
				return err
			} else {
				log.Info("process hardened", "core_limit", h.CoreLimit, "dumpable", h.Dumpable)
			}
			ctss.QuietLibrary()
			deps, closeDeps, err := signer.OpenDeps(cfg, log)
			if err != nil {
				return err
			}
			defer closeDeps()
			node, err := signer.New(cfg, deps)
			if err != nil {
				return err
			}
			defer node.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go reloadOnHUP(ctx, cfgPath, node, log)
			return node.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "node config file (required)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
