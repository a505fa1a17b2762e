// Command cofferd is the Coffer signer node daemon.
//
//	cofferd run --config node.yaml          serve until SIGINT/SIGTERM
//	cofferd hsm init --config node.yaml     create the node's keys in its token
//	cofferd preparams import --config node.yaml --file F --sets 0,3
//	cofferd store check --config node.yaml  check a stopped node's store (exit 1 on damage)
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/harden"
)

func main() {
	root := &cobra.Command{Use: "cofferd", Short: "Coffer signer node", SilenceUsage: true, SilenceErrors: true,
		// every command may hold a PIN, a share or pre-parameters: no core
		// dump, and no other process of the user reads its memory
		PersistentPreRunE: func(*cobra.Command, []string) error {
			_, err := harden.Process()
			return err
		}}
	root.AddCommand(newRunCmd(), newHSMCmd(), newPreParamsCmd(), newStoreCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "cofferd:", err)
		os.Exit(1)
	}
}
