package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
)

// replicaRow is one node's replication state as `coffer cluster status`
// prints it.
type replicaRow struct {
	Node    string   `json:"node"`
	Error   string   `json:"error,omitempty"`
	State   string   `json:"state,omitempty"`
	Leader  string   `json:"leader,omitempty"`
	Term    uint64   `json:"term"`
	Commit  uint64   `json:"commit_index"`
	Applied uint64   `json:"applied_index"`
	Lag     uint64   `json:"lag"` // entries behind the most advanced node
	Voters  []string `json:"voters,omitempty"`
	Broken  bool     `json:"broken,omitempty"`
}

func newClusterStatusCmd(clusterPath *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the replicated log on every node: leader, term, applied index and each node's lag",
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			var rows []replicaRow
			var top uint64
			for _, n := range l.Nodes {
				row := replicaRow{Node: n.ID}
				c, err := l.Dial(n.ID)
				if err == nil {
					var st *operatorpb.ReplicationStatusResponse
					st, err = c.Operator.ReplicationStatus(cmd.Context(), &operatorpb.ReplicationStatusRequest{})
					c.Close()
					if err == nil {
						row = replicaRow{Node: st.Node, State: st.State, Leader: st.Leader, Term: st.Term, Commit: st.CommitIndex,
							Applied: st.AppliedIndex, Voters: st.Voters, Broken: st.Broken}
						top = max(top, st.AppliedIndex)
					}
				}
				if err != nil {
					row.Error = callErr("replication status of "+n.ID, err).Error()
				}
				rows = append(rows, row)
			}
			w := cmd.OutOrStdout()
			down := 0
			for i := range rows {
				if rows[i].Error != "" {
					down++
					continue
				}
				rows[i].Lag = top - rows[i].Applied
			}
			if asJSON {
				enc := json.NewEncoder(w)
				for _, r := range rows {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
			} else {
				fmt.Fprintf(w, "%-8s %-10s %-8s %6s %10s %10s %6s  %s\n", "node", "state", "leader", "term", "commit", "applied", "lag", "voters")
				for _, r := range rows {
					if r.Error != "" {
						fmt.Fprintf(w, "%-8s unreachable: %s\n", r.Node, r.Error)
						continue
					}
					state := r.State
					if r.Broken {
						state += " (BROKEN)"
					}
					fmt.Fprintf(w, "%-8s %-10s %-8s %6d %10d %10d %6d  %s\n", r.Node, state, r.Leader, r.Term, r.Commit, r.Applied, r.Lag, strings.Join(r.Voters, ","))
				}
			}
			if down > 0 {
				return fmt.Errorf("cluster status: %d of %d nodes unreachable", down, len(rows))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per node")
	return cmd
}
