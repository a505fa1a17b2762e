package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cofferhq/coffer/api/transferpb"
)

// maxIntentFile bounds an intent file; real intents are a few kilobytes.
const maxIntentFile = 1 << 20

func newTransferCmd(clusterPath *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Submit and read transfer requests (the withdrawal service's side of the API)",
	}
	cmd.AddCommand(newTransferSubmitCmd(clusterPath), newTransferGetCmd(clusterPath))
	return cmd
}

func newTransferSubmitCmd(clusterPath *string) *cobra.Command {
	var cf clientFlags
	var intentPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "submit --intent FILE.json [--as withdrawal-svc]",
		Short: "Submit a transfer intent (JSON) and print the transfer the node built",
		Long: `Submit a transfer intent, the protobuf JSON form of coffer.transfer.v1.Intent
(unknown fields are errors), for example:

  {"requestId": "refill-7", "sourceWallet": "btc-cold", "destination": "btc-hot",
   "asset": "BTC", "amount": "3000000",
   "btc": {"utxos": [{"txid": "…", "vout": 0, "amount": "5000000", "pkScript": "ABR…"}],
           "feeRate": "2000", "maxFee": "100000"}}

Submitting is idempotent by request ID: the same intent again returns the
stored transfer; another intent under the same ID is refused. Only a client
with the withdrawal role may submit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := readIntent(intentPath)
			if err != nil {
				return err
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
			ctx, cancel := callCtx(cmd.Context())
			defer cancel()
			t, err := cl.Transfers.Submit(ctx, &transferpb.SubmitRequest{Intent: in})
			if err != nil {
				return callErr("submit "+in.RequestId, err)
			}
			return writeTransfer(cmd.OutOrStdout(), t, asJSON)
		},
	}
	f := cmd.Flags()
	cf.register(f, "withdrawal-svc", "client in the dev cluster folder (a withdrawal client)")
	f.StringVar(&intentPath, "intent", "", "intent file (protobuf JSON), or - for standard input (required)")
	f.BoolVar(&asJSON, "json", false, "print the transfer as protobuf JSON")
	_ = cmd.MarkFlagRequired("intent")
	return cmd
}

func newTransferGetCmd(clusterPath *string) *cobra.Command {
	var cf clientFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID [--as withdrawal-svc]",
		Short: "Show one transfer request decoded: wallets and classes, amount, fee, rule, missing, timelock, result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			cl, _, err := cf.dial(l, "")
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := callCtx(cmd.Context())
			defer cancel()
			t, err := cl.Transfers.Get(ctx, &transferpb.GetRequest{RequestId: args[0]})
			if err != nil {
				return callErr("get "+args[0], err)
			}
			return writeTransfer(cmd.OutOrStdout(), t, asJSON)
		},
	}
	f := cmd.Flags()
	cf.register(f, "withdrawal-svc", "client in the dev cluster folder: withdrawal-svc, an officer or auditor-1")
	f.BoolVar(&asJSON, "json", false, "print the transfer as protobuf JSON (with the signed transaction)")
	return cmd
}

// readIntent decodes an intent file strictly: unknown fields are errors.
func readIntent(path string) (*transferpb.Intent, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read intent: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxIntentFile+1))
	if err != nil {
		return nil, fmt.Errorf("read intent %s: %w", path, err)
	}
	if len(b) > maxIntentFile {
		return nil, fmt.Errorf("read intent %s: larger than %d bytes", path, maxIntentFile)
	}
	var in transferpb.Intent
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("decode intent %s: %w", path, err)
	}
	if in.RequestId == "" {
		return nil, errors.New("decode intent " + path + ": requestId is required (the idempotency key)")
	}
	return &in, nil
}

func writeTransfer(w io.Writer, t *transferpb.Transfer, asJSON bool) error {
	if !asJSON {
		printTransfer(w, t, time.Now())
		return nil
	}
	b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: false}.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode transfer %s: %w", t.RequestId, err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
