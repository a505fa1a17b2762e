package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
)

// newPolicySubmitCmd proposes a signed policy version to the cluster.
func newPolicySubmitCmd() *cobra.Command {
	var sigs []string
	var node string
	cmd := &cobra.Command{
		Use:   "submit FILE --sig SIG.json [--sig …]",
		Short: "Propose a signed policy version to the cluster (operator): every node checks the admin quorum, parent and version itself",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := clusterLayout(cmd.Flag("cluster").Value.String())
			if err != nil {
				return err
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			req := &operatorpb.SubmitPolicyRequest{Document: doc}
			for _, f := range sigs {
				b, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				req.Signatures = append(req.Signatures, b)
			}
			if node == "" {
				node = l.Nodes[0].ID
			}
			cl, err := l.Dial(node)
			if err != nil {
				return err
			}
			defer cl.Close()
			info, err := cl.Operator.SubmitPolicy(cmd.Context(), req)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "accepted version %d (%s), a %s change signed by %v\n", info.HeadVersion, info.HeadHash[:12], info.Change, info.Signers)
			fmt.Fprintf(w, "effective %s; active now: version %d (%s)\n", time.Unix(info.HeadEffectiveUnix, 0).UTC().Format(time.RFC3339), info.ActiveVersion, info.ActiveHash[:12])
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sigs, "sig", nil, "an admin's detached signature (coffer policy sign), repeatable")
	cmd.Flags().StringVar(&node, "node", "", "node to submit to (default: the first)")
	return cmd
}
