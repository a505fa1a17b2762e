// Command coffer is the CLI for every Coffer user: operators (cluster,
// keygen, reshare), officers, auditors, and the demo and benchmarks.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "coffer:", err)
		os.Exit(1)
	}
}
