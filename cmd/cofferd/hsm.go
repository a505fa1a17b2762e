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
	var hardenCfg string
	hardenCmd := &cobra.Command{
		Use:   "harden",
		Short: "Turn off wrap, unwrap and derive on keys an older cofferd hsm init made (PKCS#11)",
		Long: "Keys made by cofferd hsm init before version checks were added may allow unwrap (SoftHSM's default " +
			"for private keys), wrap or derive, and the node now refuses them at start. harden turns those " +
			"attributes off and checks both keys as the node does. It cannot change where a key came from: a key " +
			"that is not CKA_LOCAL, CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE must be remade (a membership change).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := signer.LoadConfigForHSM(hardenCfg)
			if err != nil {
				return err
			}
			changed, err := signer.HardenHSM(cfg, signer.NewLogger(cfg.Log.Level))
			for _, c := range changed {
				fmt.Fprintf(cmd.OutOrStdout(), "turned off: %s\n", c)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "both keys pass the node's checks")
			return nil
		},
	}
	hardenCmd.Flags().StringVar(&hardenCfg, "config", "", "node config file (required)")
	_ = hardenCmd.MarkFlagRequired("config")
	hsmCmd.AddCommand(initCmd, hardenCmd)
	return hsmCmd
}
