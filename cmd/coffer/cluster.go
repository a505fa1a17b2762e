package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/devcluster"
)

func newClusterCmd(clusterPath *string) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Development clusters on one machine"}
	var o devcluster.Options
	var dir string
	var timeout time.Duration
	initCmd := &cobra.Command{
		Use:   "init --dir DIR [--nodes 3]",
		Short: "Create a cluster CA, one SoftHSM token per node with its keys, certificates and node configs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.SessionTimeout = timeout
			l, err := devcluster.Init(cmd.Context(), dir, o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "cluster %q in %s\n", l.Cluster, l.Dir)
			for _, n := range l.Nodes {
				fmt.Fprintf(out, "  %s  api %s  peer %s  config %s\n", n.ID, n.API, n.Peer, l.Path(n.Config))
			}
			fmt.Fprintf(out, "start a node:  SOFTHSM2_CONF=%s cofferd run --config %s\n", l.SoftHSM2Conf, l.Path(l.Nodes[0].Config))
			fmt.Fprintf(out, "then:          coffer --cluster %s keygen --key hot-1 --threshold 1 --parties node1,node2,node3\n", l.Dir)
			return nil
		},
	}
	f := initCmd.Flags()
	f.StringVar(&dir, "dir", "", "folder for the cluster (required, empty or missing)")
	f.IntVar(&o.Nodes, "nodes", 3, "number of nodes")
	f.StringVar(&o.Cluster, "name", "dev", "cluster name")
	f.BoolVar(&o.SelfTestSigning, "selftest-signing", true, "let nodes serve the self-test signature (development)")
	f.IntVar(&o.PoolSize, "pool", 2, "pre-parameter sets each node keeps pooled")
	f.BoolVar(&o.Generate, "generate", true, "nodes generate pre-parameters in the background")
	f.DurationVar(&timeout, "session-timeout", time.Minute, "session deadline")
	f.StringVar(&o.LogLevel, "log-level", "info", "node log level")
	_ = initCmd.MarkFlagRequired("dir")
	cmd.AddCommand(initCmd, newClusterStatusCmd(clusterPath), newClusterNodeCmd(clusterPath))
	cmd.AddCommand(newClusterVoterCmds(clusterPath)...)
	return cmd
}

// clusterFlag is the --cluster flag shared by the commands that talk to a
// cluster; COFFER_CLUSTER is its default.
func clusterLayout(path string) (*devcluster.Layout, error) {
	if path == "" {
		path = os.Getenv("COFFER_CLUSTER")
	}
	if path == "" {
		return nil, fmt.Errorf("name the cluster with --cluster DIR or COFFER_CLUSTER")
	}
	return devcluster.Load(path)
}
