package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
)

// nodeStatus is one node's answer to Status, as `coffer status --json` prints it.
type nodeStatus struct {
	Node            string `json:"node"`
	Error           string `json:"error,omitempty"`
	Keys            int32  `json:"keys"`
	PreParamsPooled int32  `json:"preparams_pooled"`
	PreParamsTarget int32  `json:"preparams_target"`
	SessionsActive  int32  `json:"sessions_active"`
	TSSConstantTime bool   `json:"tss_constant_time"`
	TSSLibrary      string `json:"tss_library"`
}

func newStatusCmd(clusterPath *string) *cobra.Command {
	var node string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--node ID] [--json]",
		Short: "Show each node's state: keys, pre-parameter pool, sessions, threshold library and constant-time mode",
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			var out []nodeStatus
			failed := 0
			for _, n := range l.Nodes {
				if node != "" && n.ID != node {
					continue
				}
				ns := nodeStatus{Node: n.ID}
				c, err := l.Dial(n.ID)
				if err == nil {
					var st *operatorpb.StatusResponse
					st, err = c.Operator.Status(cmd.Context(), &operatorpb.StatusRequest{})
					c.Close()
					if err == nil {
						ns = nodeStatus{Node: st.Node, Keys: st.Keys, PreParamsPooled: st.PreparamsPooled,
							PreParamsTarget: st.PreparamsTarget, SessionsActive: st.SessionsActive,
							TSSConstantTime: st.TssConstantTime, TSSLibrary: st.TssLibrary}
					}
				}
				if err != nil {
					ns.Error = callErr("status of "+n.ID, err).Error()
					failed++
				}
				out = append(out, ns)
			}
			if len(out) == 0 {
				return fmt.Errorf("status: no node %q in the cluster", node)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				for _, ns := range out {
					if err := enc.Encode(ns); err != nil {
						return err
					}
				}
			} else {
				for _, ns := range out {
					if ns.Error != "" {
						fmt.Fprintf(w, "%s: unreachable: %s\n", ns.Node, ns.Error)
						continue
					}
					ct := "ON"
					if !ns.TSSConstantTime {
						ct = "OFF"
					}
					fmt.Fprintf(w, "%s: keys %d, pre-parameters %d/%d, sessions %d, %s, constant-time %s\n",
						ns.Node, ns.Keys, ns.PreParamsPooled, ns.PreParamsTarget, ns.SessionsActive, ns.TSSLibrary, ct)
				}
			}
			if failed > 0 {
				return fmt.Errorf("status: %d of %d nodes unreachable", failed, len(out))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&node, "node", "", "ask only this node")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per node")
	return cmd
}
