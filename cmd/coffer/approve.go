package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/review"
	"github.com/cofferhq/coffer/policy"
)

// officerID is the form of a policy ID (policy validates the same way);
// it also keeps the dev cluster's OFFICER.key and OFFICER.pem inside the
// cluster folder.
var officerID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func newApproveCmd(clusterPath *string) *cobra.Command {
	return newDecideCmd(clusterPath, "approve", policy.VerdictApprove)
}

func newRejectCmd(clusterPath *string) *cobra.Command {
	return newDecideCmd(clusterPath, "reject", policy.VerdictReject)
}

// newDecideCmd builds `coffer approve` and `coffer reject`: fetch the
// transfer, show it decoded, have the officer confirm, sign the verdict
// over the request digest and record it with Decide.
func newDecideCmd(clusterPath *string, verdict string, v policy.Verdict) *cobra.Command {
	var cf clientFlags
	var kf officerKeyFlags
	var officer string
	var yes, crossChk bool
	var nodes int
	cmd := &cobra.Command{
		Use: verdict + " ID --officer ID [--key KEYFILE | --pkcs11-module PATH --token LABEL --key-label LABEL --pin-env VAR] [--node N]",
		Short: map[string]string{
			"approve": "Approve a transfer request as an officer: review it decoded, sign the approval, record it",
			"reject":  "Reject a transfer request as an officer (a member of a veto group ends it): review, sign, record",
		}[verdict],
		Long: `Fetch the transfer and check it here, without trusting the node that
shows it: decode the intent the node returns, rebuild the transaction from
it with the chain libraries, refuse unless the bytes and sighashes are the
ones the nodes will sign, recompute the request digest, and show what the
transaction does as decoded here from its bytes (destination, amount,
change, fee, inputs, nonce), never the node's summary. The same request is
asked of a majority of the cluster's nodes (--nodes to ask more; every
node with --cross-check), each of which built it itself; any disagreement,
or too few answers, and nothing is signed.

After confirmation, sign "coffer/approval/v2" ‖ digest ‖ verdict ‖ signing
time with the officer's key and record the decision. The key is a PKCS#8
PEM file (--key; in a dev cluster the officer's OFFICER.key) or a key pair
on a PKCS#11 token (--pkcs11-module, --token, --key-label, and --pin-env
naming the variable that holds the PIN). The calls are made with the
officer's client certificate (--cert and --cert-key; in a dev cluster
OFFICER.pem and OFFICER.key).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			if !officerID.MatchString(officer) {
				return fmt.Errorf("--officer %q: not an officer ID (letters, digits, '.', '_', '-')", officer)
			}
			out, id := cmd.OutOrStdout(), args[0]
			key, err := kf.open(l.Path(officer+".key"), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer key.close()
			cl, cc, err := cf.dial(l, officer)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := callCtx(cmd.Context())
			t, err := cl.Transfers.Get(ctx, &transferpb.GetRequest{RequestId: id})
			cancel()
			if err != nil {
				return callErr("get "+id, err)
			}
			need, err := askCount(len(l.Nodes), nodes, crossChk)
			if err != nil {
				return err
			}
			if err := reviewable(t); err != nil {
				return fmt.Errorf("%s %s: %w", verdict, id, err)
			}
			checked, err := review.Check(t)
			if err != nil {
				return fmt.Errorf("%s %s: %s shows a request this client cannot rebuild: %w; not signing", verdict, id, cf.nodeID(l), err)
			}
			printChecked(out, t, checked, time.Now())
			if err := vouch(cmd.Context(), out, l, cc, cf.nodeID(l), t, need); err != nil {
				return fmt.Errorf("%s %s: %w", verdict, id, err)
			}
			digest := policy.Hash(checked.Digest)
			fmt.Fprintf(out, "  %-11s %s, %s\n", "signing key", key.desc, key.pub)
			if !yes {
				if err := confirm(cmd.InOrStdin(), out, fmt.Sprintf("%s transfer %s as officer %s (client %s)?", verdict, id, officer, cc.Name)); err != nil {
					return err
				}
			}
			// the signing time goes under the signature: nodes take the
			// approval only within minutes of it
			signedAt := time.UnixMilli(time.Now().UnixMilli())
			sig, err := policy.SignApproval(rand.Reader, key, digest, v, signedAt)
			if err != nil {
				return fmt.Errorf("sign %s of %s: %w", verdict, id, err)
			}
			ctx, cancel = callCtx(cmd.Context())
			defer cancel()
			after, err := cl.Transfers.Decide(ctx, &transferpb.DecideRequest{RequestId: id, Officer: officer, Verdict: verdict,
				Digest: digest[:], Signature: sig, SignedAtUnixMs: signedAt.UnixMilli()})
			if err != nil {
				return callErr(verdict+" "+id, err)
			}
			fmt.Fprintf(out, "%s recorded for %s by %s: state %s\n", verdict, id, officer, after.State)
			if len(after.Missing) > 0 {
				fmt.Fprintf(out, "  still missing: %s\n", strings.Join(after.Missing, "; "))
			} else if after.Reason != "" {
				fmt.Fprintf(out, "  reason: %s\n", after.Reason)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&officer, "officer", "", "officer ID in the policy (required); the node checks it is the certificate's holder")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.IntVar(&nodes, "nodes", 0, "how many nodes must show the same request (default: a majority of the cluster)")
	f.BoolVar(&crossChk, "cross-check", false, "ask every node of the cluster, not only a majority")
	kf.register(f)
	cf.register(f, "", "client in the dev cluster folder (default: the officer)")
	_ = cmd.MarkFlagRequired("officer")
	return cmd
}

// reviewable refuses transfers an officer cannot meaningfully decide:
// final ones, and ones the node could not rebuild (nothing to review).
func reviewable(t *transferpb.Transfer) error {
	switch t.State {
	case "signed", "denied", "expired":
		return fmt.Errorf("the transfer is %s: nothing left to decide", t.State)
	}
	if t.Summary == nil || t.Review == nil {
		return fmt.Errorf("the node could not rebuild the transaction under its active policy; not signing")
	}
	return nil
}

// askCount is how many nodes must show the same request: a majority by
// default, every node with --cross-check, or --nodes (at least a majority).
func askCount(cluster, nodes int, all bool) (int, error) {
	switch {
	case all:
		return cluster, nil
	case nodes == 0:
		return majority(cluster), nil
	case nodes < majority(cluster) || nodes > cluster:
		return 0, fmt.Errorf("--nodes %d: between %d (a majority) and %d (every node)", nodes, majority(cluster), cluster)
	}
	return nodes, nil
}

// confirm asks a yes/no question on w and reads the answer from r.
func confirm(r io.Reader, w io.Writer, question string) error {
	fmt.Fprintf(w, "%s [y/N] ", question)
	line, err := bufio.NewReader(r).ReadString('\n')
	if f, ok := r.(*os.File); !ok || !isTerminal(f) {
		fmt.Fprintln(w) // a terminal echoed the answer's newline; a pipe did not
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	if answer == "y" || answer == "yes" {
		return nil
	}
	if err != nil && answer == "" {
		return fmt.Errorf("not confirmed (no answer on standard input: %v); pass --yes to skip the question", err)
	}
	return fmt.Errorf("not confirmed; nothing was signed")
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
