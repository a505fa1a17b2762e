package main

import (
	"fmt"
	"io"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/review"
)

// printChecked shows a transfer as an officer decides it: what the
// transaction does, decoded here from the bytes the keys will sign after
// rebuilding them from the intent, then where the node's policy stands
// (rule, what is missing, timelock, decisions so far).
func printChecked(w io.Writer, t *transferpb.Transfer, c *review.Checked, now time.Time) {
	fmt.Fprintf(w, "transfer %s  %s\n", t.RequestId, stateText(t))
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintln(w, "  rebuilt here from the intent and decoded from the transaction bytes:")
	for _, l := range c.Lines() {
		row(l.Label, "%s", l.Value)
	}
	if s := t.Summary; s != nil {
		dst := s.DestinationClass
		if s.DestinationWallet != "" {
			dst = s.DestinationWallet + " (" + s.DestinationClass + ")"
		}
		row("wallets", "the node names %s (%s) → %s", s.SourceWallet, s.SourceClass, dst)
	}
	fmt.Fprintln(w, "  the policy, as the node evaluates it:")
	policyRows(row, t, now)
	row("submitted", "%s by %s", time.Unix(t.SubmittedAtUnix, 0).UTC().Format(time.RFC3339), orDash(t.Initiator))
}
