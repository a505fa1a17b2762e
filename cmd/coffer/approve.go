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
	cmd := &cobra.Command{
		Use: verdict + " ID --officer ID [--key KEYFILE | --pkcs11-module PATH --token LABEL --key-label LABEL --pin-env VAR] [--node N]",
		Short: map[string]string{
			"approve": "Approve a transfer request as an officer: review it decoded, sign the approval, record it",
			"reject":  "Reject a transfer request as an officer (a member of a veto group ends it): review, sign, record",
		}[verdict],
		Long: `Fetch the transfer, show it as the node decoded it from the transaction
bytes (source and destination with their wallet classes, amount, fee, the
rule that matched, what is still missing, the timelock, the request
digest), ask for confirmation, then sign
"coffer/approval/v1" ‖ digest ‖ verdict with the officer's key and record
the decision. The key is a PKCS#8 PEM file (--key; in a dev cluster the
officer's OFFICER.key) or a key pair on a PKCS#11 token (--pkcs11-module,
--token, --key-label, and --pin-env naming the variable that holds the
PIN). The call is made with the officer's client certificate (--cert and
--cert-key; in a dev cluster OFFICER.pem and OFFICER.key).

What is shown comes from the node asked (--node). With --cross-check the
transfer is also fetched from every other node, each of which built the
transaction and its digest itself, and nothing is signed unless they all
agree.`,
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
			printTransfer(out, t, time.Now())
			digest, err := reviewable(t)
			if err != nil {
				return fmt.Errorf("%s %s: %w", verdict, id, err)
			}
			if crossChk {
				if err := crossCheck(cmd.Context(), out, l, cc, cf.nodeID(l), t); err != nil {
					return fmt.Errorf("%s %s: %w", verdict, id, err)
				}
			}
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
	f.BoolVar(&crossChk, "cross-check", false, "refuse unless every other node shows the same digest and decoded transaction")
	kf.register(f)
	cf.register(f, "", "client in the dev cluster folder (default: the officer)")
	_ = cmd.MarkFlagRequired("officer")
	return cmd
}

// reviewable refuses transfers an officer cannot meaningfully decide:
// final ones, and ones the node could not decode (nothing to review).
func reviewable(t *transferpb.Transfer) (policy.Hash, error) {
	switch t.State {
	case "signed", "denied", "expired":
		return policy.Hash{}, fmt.Errorf("the transfer is %s: nothing left to decide", t.State)
	}
	if t.Summary == nil {
		return policy.Hash{}, fmt.Errorf("the node shows no decoded transaction to review; not signing")
	}
	var d policy.Hash
	if len(t.Digest) != len(d) {
		return policy.Hash{}, fmt.Errorf("the node returned a %d-byte digest, want %d; not signing", len(t.Digest), len(d))
	}
	copy(d[:], t.Digest)
	return d, nil
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
