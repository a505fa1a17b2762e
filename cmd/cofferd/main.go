// Command cofferd is the Coffer signer node daemon.
//
//	cofferd run --config node.yaml          serve until SIGINT/SIGTERM
//	cofferd hsm init --config node.yaml     create the node's keys in its token
//	cofferd preparams import --config node.yaml --file F --sets 0,3
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "cofferd", Short: "Coffer signer node", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newRunCmd(), newHSMCmd(), newPreParamsCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "cofferd:", err)
		os.Exit(1)
	}
}
