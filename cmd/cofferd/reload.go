package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferhq/coffer/signer"
)

// reloadOnHUP reloads the certificate revocation list (tls.revoked) from
// the config file on every SIGHUP until ctx ends. The whole file is
// loaded and validated; a file that does not validate changes nothing.
// Other fields are read only at start.
func reloadOnHUP(ctx context.Context, cfgPath string, node *signer.Node, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		cfg, err := signer.LoadConfig(cfgPath)
		if err != nil {
			log.Error("SIGHUP: config refused; the revocation list in force stays", "err", err)
			continue
		}
		if err := node.ReloadRevocations(cfg); err != nil {
			log.Error("SIGHUP: revocation list refused; the one in force stays", "err", err)
			continue
		}
		log.Info("SIGHUP: revocation list reloaded (other config changes take effect at restart)")
	}
}
