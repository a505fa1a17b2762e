package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

func newClusterVoterCmds(clusterPath *string) []*cobra.Command {
	add := &cobra.Command{
		Use:   "add-node NODE",
		Short: "Make a member a voter of the replicated log (it must be in every node's members and running)",
		Long: `add-node asks the leader to add NODE as a voter. NODE must already be a
member in every node's config (its identity key pinned there) and be
running: it then receives the log or a snapshot, applies it, and votes.
A new node holds no key shares; reshare a key to give it one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeVoters(cmd.Context(), cmd.OutOrStdout(), *clusterPath, args[0], true)
		},
	}
	remove := &cobra.Command{
		Use:   "remove-node NODE",
		Short: "Take a voter out of the replicated log (reshare its keys away first)",
		Long: `remove-node asks the leader to remove NODE from the voters. The others
no longer wait for it to commit; it keeps its store and token but no
longer follows the log, so it cannot sign. Reshare every key whose
committee holds NODE before removing it, or its share is lost to the
cluster. The leader cannot remove itself: stop it first.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return changeVoters(cmd.Context(), cmd.OutOrStdout(), *clusterPath, args[0], false)
		},
	}
	return []*cobra.Command{add, remove}
}

// changeVoters finds the leader among the layout's nodes and asks it.
func changeVoters(ctx context.Context, w io.Writer, clusterPath, node string, add bool) error {
	l, err := clusterLayout(clusterPath)
	if err != nil {
		return err
	}
	leader, err := findLeader(ctx, l)
	if err != nil {
		return err
	}
	c, err := l.Dial(leader)
	if err != nil {
		return err
	}
	defer c.Close()
	req := &operatorpb.VoterRequest{Node: node}
	var st *operatorpb.ReplicationStatusResponse
	verb := "added"
	if add {
		st, err = c.Operator.AddVoter(ctx, req)
	} else {
		verb = "removed"
		st, err = c.Operator.RemoveVoter(ctx, req)
	}
	if err != nil {
		return callErr("change voters at "+leader, err)
	}
	fmt.Fprintf(w, "%s %s (leader %s, term %d); voters now: %s\n", verb, node, st.Leader, st.Term, strings.Join(st.Voters, ","))
	return nil
}

// findLeader asks the layout's nodes who leads the log.
func findLeader(ctx context.Context, l *devcluster.Layout) (string, error) {
	var errs []error
	for _, n := range l.Nodes {
		c, err := l.Dial(n.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := c.Operator.ReplicationStatus(ctx, &operatorpb.ReplicationStatusRequest{})
		c.Close()
		if err != nil {
			errs = append(errs, callErr("replication status of "+n.ID, err))
			continue
		}
		if st.Leader != "" {
			return st.Leader, nil
		}
	}
	return "", fmt.Errorf("no node knows a leader: %w", errors.Join(errs...))
}

func newClusterNodeCmd(clusterPath *string) *cobra.Command {
	return &cobra.Command{
		Use:   "new-node NODE",
		Short: "Create one more node in a development cluster (token, identity, certificate, config) and add it to every node's members",
		Long: `new-node makes NODE's SoftHSM token, identity key, certificate and config
and adds NODE to the members of every node's config. Then restart the
running nodes one at a time (they pin their members at start), start
NODE, and make it a voter with "coffer cluster add-node NODE".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			n, err := devcluster.AddNode(cmd.Context(), l, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s  api %s  peer %s  raft %s  config %s\n", n.ID, n.API, n.Peer, n.Raft, l.Path(n.Config))
			fmt.Fprintf(w, "next: restart the running nodes one at a time, start %s, then: coffer --cluster %s cluster add-node %s\n", n.ID, l.Dir, n.ID)
			return nil
		},
	}
}
