package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

func newDemoCmd() *cobra.Command {
	var o upOptions
	var out string
	cmd := &cobra.Command{
		Use:   "demo [--out DIR]",
		Short: "The whole story on a local 3-node cluster: keys, a signed policy, sweeps, approvals, timelocks, refusals, audit",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "cluster folder (default: a temporary one)")
	f.BoolVar(&o.keep, "keep", false, "keep the cluster folder")
	f.StringVar(&o.preparams, "preparams", "", "pre-generated pre-parameter sets (JSON) instead of waiting for safe primes")
	f.StringVar(&o.logLevel, "log-level", "info", "node log level")
	f.StringVar(&out, "out", "", "write DIR/transfers.json: every signed transaction and what an independent verifier needs")
	return cmd
}

// story is the demo's state.
type story struct {
	ctx  context.Context
	w    io.Writer
	tr   *devcluster.Treasury
	svc  transferpb.TransfersClient
	done []*transferpb.Transfer
	utxo map[string][]*transferpb.UTXO // request → the outputs it spends
}

func step(w io.Writer, format string, a ...any) { fmt.Fprintf(w, "\n• "+format+"\n", a...) }

func runDemo(ctx context.Context, w io.Writer, o upOptions, out string) error {
	fmt.Fprintln(w, "Coffer demo: three signer nodes, each with its own HSM token; a signed policy; the withdrawal service, officers and an auditor.")
	o.pool = 3 // hot, cold and SAFU keys: one pre-parameter set per node each
	c, cleanup, err := bringUp(ctx, w, o)
	if err != nil {
		return err
	}
	defer cleanup()
	step(w, "keygen: hot, cold and SAFU keys, each 2-of-3 across node1, node2, node3; wallets on Bitcoin regtest and Ethereum chain 1337")
	tr, err := devcluster.SetupTreasury(ctx, c, devcluster.TreasuryOptions{RefillTimelock: 3 * time.Second, SAFUTimelock: 5 * time.Second}, w)
	if err != nil {
		return err
	}
	for _, id := range []string{"btc-hot", "btc-cold", "btc-safu", "eth-hot", "eth-cold"} {
		wl := tr.Wallets[id]
		fmt.Fprintf(w, "  %-9s %-5s key %-7s %s\n", id, wl.Class, wl.KeyID, wl.Address)
	}
	fmt.Fprintln(w, "  every node restarted with the signed policy; each checked the admins' quorum itself")
	cl, err := tr.Layout.DialAs("node1", tr.Withdrawal)
	if err != nil {
		return err
	}
	defer cl.Close()
	s := &story{ctx: ctx, w: w, tr: tr, svc: cl.Transfers, utxo: map[string][]*transferpb.UTXO{}}
	for _, f := range []func() error{s.sweep, s.refill, s.safu, s.ethSweep, s.refusals} {
		if err := f(); err != nil {
			return err
		}
	}
	if err := s.audit(c); err != nil {
		return err
	}
	if out != "" {
		if err := writeTransfers(filepath.Join(out, "transfers.json"), s.done, s.utxo, tr); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n  wrote %s\n", filepath.Join(out, "transfers.json"))
	}
	fmt.Fprintln(w, "\nDemo complete.")
	return nil
}

func (s *story) submit(in *transferpb.Intent) (*transferpb.Transfer, error) {
	if in.Btc != nil {
		s.utxo[in.RequestId] = in.Btc.Utxos
	}
	t, err := s.svc.Submit(s.ctx, &transferpb.SubmitRequest{Intent: in})
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", in.RequestId, err)
	}
	sum := t.Summary
	fmt.Fprintf(s.w, "  withdrawal-svc submits %s: %s from %s (%s) to %s (%s), fee %s\n", t.RequestId, coins(sum.GetChain(), sum.GetAmount()),
		sum.GetSourceWallet(), sum.GetSourceClass(), short(sum.GetDestination()), sum.GetDestinationClass(), coins(sum.GetChain(), sum.GetFee()))
	fmt.Fprintf(s.w, "  → %s%s\n", t.State, missing(t))
	return t, nil
}

func missing(t *transferpb.Transfer) string {
	switch {
	case t.State == "denied":
		return ": " + t.Reason
	case len(t.Missing) > 0:
		return " (rule " + t.Rule + "; missing: " + strings.Join(t.Missing, "; ") + ")"
	case t.Rule != "":
		return " (rule " + t.Rule + ")"
	}
	return ""
}

func (s *story) signed(id string) error {
	t, err := devcluster.Wait(s.ctx, s.svc, id, 2*time.Minute, "signed", "denied", "expired")
	if err != nil {
		return err
	}
	if t.State != "signed" {
		return fmt.Errorf("%s ended %s: %s", id, t.State, t.Reason)
	}
	if err := verifySigned(t, s.utxo[id], s.tr); err != nil {
		return err
	}
	fmt.Fprintf(s.w, "  ✓ signed by the gate of two nodes: tx %s, %d bytes, verified here with the chain library\n", t.TxHash, len(t.SignedTx))
	s.done = append(s.done, t)
	return nil
}

func (s *story) decide(node, officer, verdict string, t *transferpb.Transfer) (*transferpb.Transfer, error) {
	after, err := s.tr.Decide(s.ctx, node, officer, verdict, t.RequestId, t.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", officer, verdict, err)
	}
	fmt.Fprintf(s.w, "  officer %s %ss on %s (signature over the request digest %x…) → %s%s\n", officer, verdict, node, t.Digest[:6], after.State, missing(after))
	return after, nil
}

func short(s string) string {
	if len(s) > 20 {
		return s[:10] + "…" + s[len(s)-6:]
	}
	return s
}

// coins renders base units (satoshi, wei) in whole coins.
func coins(chain, base string) string {
	v, ok := new(big.Rat).SetString(base)
	if !ok {
		return base
	}
	unit, digits, sym := big.NewRat(100_000_000, 1), 8, " BTC"
	if chain == "eth" {
		unit, digits, sym = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)), 6, " ETH"
	}
	return strings.TrimRight(strings.TrimRight(new(big.Rat).Quo(v, unit).FloatString(digits), "0"), ".") + sym
}

func refused(err error) string { return status.Convert(err).Message() }
