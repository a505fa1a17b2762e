package main

import "github.com/spf13/cobra"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "coffer",
		Short:         "Coffer custody signing cluster: operator, officer and auditor CLI",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var clusterPath string
	root.PersistentFlags().StringVar(&clusterPath, "cluster", "", "development cluster folder (default $COFFER_CLUSTER)")
	// One constructor per command family, each in its own file.
	root.AddCommand(
		// commands are appended below, one line each
		newClusterCmd(&clusterPath),
		newKeygenCmd(&clusterPath),
		newReshareCmd(&clusterPath),
		newKeysCmd(&clusterPath),
		newSelfTestCmd(&clusterPath),
		newDemoCmd(),
		newBenchCmd(),
		newAuditCmd(&clusterPath),
		newPolicyCmd(),
		newTransfersCmd(&clusterPath),
		newTransferCmd(&clusterPath),
		newApproveCmd(&clusterPath),
		newRejectCmd(&clusterPath),
		newWalletCmd(&clusterPath),
		newStatusCmd(&clusterPath),
		newBackupCmd(&clusterPath), newRestoreCmd(&clusterPath),
		newCertCmd(),
	)
	return root
}
