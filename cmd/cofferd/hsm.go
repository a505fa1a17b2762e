package main

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/signer"
)

func newHSMCmd() *cobra.Command {
	hsmCmd := &cobra.Command{Use: "hsm", Short: "Manage the node's HSM keys"}
	var cfgPath string
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the sealing key and the identity key pair in the node's HSM (PKCS#11 token or Vault transit)",
		Long: "Creates coffer-seal (AES-256, sensitive, not extractable) and coffer-node (Ed25519 identity) " +
			"in the token the config names, and prints the identity public key for the cluster's member list " +
			"and the CA. Refuses if either key already exists.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := signer.LoadConfigForHSM(cfgPath)
			if err != nil {
				return err
			}
			if cfg.HSM.SoftHSM2Conf != "" {
				_ = os.Setenv("SOFTHSM2_CONF", cfg.HSM.SoftHSM2Conf)
			}
			pub, err := signer.ProvisionHSM(cmd.Context(), cfg, signer.NewLogger(cfg.Log.Level))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "identity_key: %s\n", hex.EncodeToString(pub))
			return nil
		},
	}
	initCmd.Flags().StringVar(&cfgPath, "config", "", "node config file (required)")
	_ = initCmd.MarkFlagRequired("config")
	hsmCmd.AddCommand(initCmd)
	return hsmCmd
}
