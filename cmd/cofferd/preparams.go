package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/signer"
)

func newPreParamsCmd() *cobra.Command {
	ppCmd := &cobra.Command{Use: "preparams", Short: "Manage the node's sealed pre-parameter pool"}
	var cfgPath, file, sets string
	var devOnly bool
	imp := &cobra.Command{
		Use:   "import",
		Short: "Seal pre-generated pre-parameter sets into the pool (development and tests)",
		Long: "Pre-parameters made outside the node are known to whoever made them, and the fixtures in this " +
			"repository are public: a key generated from them is not secret. The node fills its pool itself; " +
			"this command is for development clusters and tests only and refuses to run without --dev.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !devOnly {
				return fmt.Errorf("refusing to import pre-parameters made outside this node without --dev (development and tests only)")
			}
			cfg, err := signer.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			idx, err := parseSets(sets)
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			log := signer.NewLogger(cfg.Log.Level)
			deps, closeDeps, err := signer.OpenDeps(cfg, log)
			if err != nil {
				return err
			}
			defer closeDeps()
			n, err := signer.ImportPreParams(context.Background(), cfg, deps, raw, idx)
			fmt.Fprintf(cmd.OutOrStdout(), "sealed %d pre-parameter sets into %s's pool\n", n, cfg.Node)
			return err
		},
	}
	imp.Flags().StringVar(&cfgPath, "config", "", "node config file (required)")
	imp.Flags().StringVar(&file, "file", "", "JSON array of pre-parameter sets (required)")
	imp.Flags().StringVar(&sets, "sets", "", "comma-separated indexes of the sets to import (required)")
	imp.Flags().BoolVar(&devOnly, "dev", false, "acknowledge: development or test node; these pre-parameters are not secret")
	for _, f := range []string{"config", "file", "sets"} {
		_ = imp.MarkFlagRequired(f)
	}
	ppCmd.AddCommand(imp)
	return ppCmd
}

func parseSets(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || i < 0 {
			return nil, fmt.Errorf("--sets: %q is not an index", p)
		}
		out = append(out, i)
	}
	return out, nil
}
