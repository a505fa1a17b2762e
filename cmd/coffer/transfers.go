package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/transferpb"
)

// transferStates are the states a transfer can be in (DESIGN.md §5).
var transferStates = []string{"pending_approval", "timelocked", "ready", "signing", "signed", "denied", "failed", "expired"}

func newTransfersCmd(clusterPath *string) *cobra.Command {
	var cf clientFlags
	var state, cursor, since, until string
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "transfers [--state S] [--since T] [--until T] [--limit N] [--cursor C | --all] [--node N] [--as NAME]",
		Short: "List transfer requests: state, source → destination with wallet classes, amount, rule, what is missing",
		Long: `List transfer requests as a node sees them. Officers and auditors see all
of them, a withdrawal client only its own. Source and destination, their
wallet classes and the amount are decoded by the node from the transaction
it built, newest first, a page at a time: the last line names the cursor
of the next page (--all follows them). States: ` + strings.Join(transferStates, ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state != "" && !slices.Contains(transferStates, state) {
				return fmt.Errorf("--state %q: want one of %s", state, strings.Join(transferStates, ", "))
			}
			if limit < 0 || limit > 1000 {
				return fmt.Errorf("--limit %d: want 0 (the node's default, 100) to 1000", limit)
			}
			req := &transferpb.ListRequest{State: state, Limit: int32(limit), Cursor: cursor}
			for _, b := range []struct {
				flag, v string
				dst     *int64
			}{{"--since", since, &req.SinceUnix}, {"--until", until, &req.UntilUnix}} {
				if b.v == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, b.v)
				if err != nil {
					return fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-12-01T00:00:00Z", b.flag, b.v)
				}
				*b.dst = t.Unix()
			}
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			cl, _, err := cf.dial(l, "")
			if err != nil {
				return err
			}
			defer cl.Close()
			var ts []*transferpb.Transfer
			for {
				ctx, cancel := callCtx(cmd.Context())
				resp, err := cl.Transfers.List(ctx, req)
				cancel()
				if err != nil {
					return callErr("list transfers", err)
				}
				ts = append(ts, resp.Transfers...)
				req.Cursor = resp.NextCursor
				if !all || req.Cursor == "" {
					break
				}
			}
			printTransferTable(cmd.OutOrStdout(), ts, time.Now())
			if req.Cursor != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "next page: --cursor %s\n", req.Cursor)
			}
			return nil
		},
	}
	f := cmd.Flags()
	cf.register(f, "", "client in the dev cluster folder: an officer (tom), auditor-1 or withdrawal-svc")
	f.StringVar(&state, "state", "", "only transfers in this state")
	f.IntVar(&limit, "limit", 0, "at most this many a page (0: the node's default, 100)")
	f.StringVar(&cursor, "cursor", "", "the page after the one that printed this cursor")
	f.StringVar(&since, "since", "", "only transfers submitted at or after this time (RFC 3339)")
	f.StringVar(&until, "until", "", "only transfers submitted before this time (RFC 3339)")
	f.BoolVar(&all, "all", false, "follow the cursors to the last page")
	return cmd
}

func printTransferTable(w io.Writer, ts []*transferpb.Transfer, now time.Time) {
	if len(ts) == 0 {
		fmt.Fprintln(w, "no transfers")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSOURCE → DESTINATION\tAMOUNT\tASSET\tRULE\tMISSING\tAGE")
	for _, t := range ts {
		route, amount, asset := "? → ?", "?", "?"
		if s := t.Summary; s != nil {
			route = shortEndpoint(s.SourceWallet, s.SourceClass, s.SourceAddress) + " → " +
				shortEndpoint(s.DestinationWallet, s.DestinationClass, s.Destination)
			amount, asset = s.Amount, s.Asset
		}
		missing := strings.Join(t.Missing, "; ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.RequestId, stateText(t), route, amount, asset,
			orDash(t.Rule), orDash(missing), age(t.SubmittedAtUnix, now))
	}
	_ = tw.Flush()
}
