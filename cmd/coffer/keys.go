package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func newKeygenCmd(clusterPath *string) *cobra.Command {
	var keyID, parties, node string
	var threshold int
	cmd := &cobra.Command{
		Use:   "keygen --key ID --threshold T --parties node1,node2,node3",
		Short: "Generate a threshold key across nodes (any T+1 of them sign)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			ps := splitList(parties)
			if node == "" && len(ps) > 0 {
				node = ps[0]
			}
			c, err := l.Dial(node)
			if err != nil {
				return err
			}
			defer c.Close()
			stream, err := c.Operator.Keygen(cmd.Context(), &operatorpb.KeygenRequest{KeyId: keyID, Threshold: int32(threshold), Parties: ps})
			if err != nil {
				return err
			}
			key, err := followProgress(cmd.OutOrStdout(), "keygen "+keyID, stream.Recv)
			if err != nil {
				return err
			}
			printKey(cmd.OutOrStdout(), key)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyID, "key", "", "key ID (required)")
	f.IntVar(&threshold, "threshold", 1, "t: any t+1 parties sign")
	f.StringVar(&parties, "parties", "", "comma-separated nodes of the committee (required)")
	f.StringVar(&node, "node", "", "node that coordinates (default: the first party)")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("parties")
	return cmd
}

func newReshareCmd(clusterPath *string) *cobra.Command {
	var keyID, oldParties, newParties, node string
	var threshold int
	cmd := &cobra.Command{
		Use:   "reshare --key ID --old-parties A,B --new-parties A,B,C --new-threshold T",
		Short: "Move a key to a new committee or threshold; the public key stays, old shares are retired",
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			olds := splitList(oldParties)
			if node == "" && len(olds) > 0 {
				node = olds[0]
			}
			c, err := l.Dial(node)
			if err != nil {
				return err
			}
			defer c.Close()
			stream, err := c.Operator.Reshare(cmd.Context(), &operatorpb.ReshareRequest{KeyId: keyID, OldParties: olds,
				NewParties: splitList(newParties), NewThreshold: int32(threshold)})
			if err != nil {
				return err
			}
			key, err := followProgress(cmd.OutOrStdout(), "reshare "+keyID, stream.Recv)
			if err != nil {
				return err
			}
			printKey(cmd.OutOrStdout(), key)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyID, "key", "", "key ID (required)")
	f.StringVar(&oldParties, "old-parties", "", "current committee members taking part (at least t+1)")
	f.StringVar(&newParties, "new-parties", "", "the new committee")
	f.IntVar(&threshold, "new-threshold", 1, "the new t")
	f.StringVar(&node, "node", "", "node that coordinates (default: the first old party)")
	for _, n := range []string{"key", "old-parties", "new-parties"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func newKeysCmd(clusterPath *string) *cobra.Command {
	var node string
	cmd := &cobra.Command{
		Use:   "keys [--node node1]",
		Short: "List a node's keys with their Bitcoin and Ethereum addresses",
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			if node == "" {
				node = l.Nodes[0].ID
			}
			c, err := l.Dial(node)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.Operator.ListKeys(cmd.Context(), &operatorpb.ListKeysRequest{})
			if err != nil {
				return err
			}
			for _, k := range resp.Keys {
				printKey(cmd.OutOrStdout(), k)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&node, "node", "", "node to ask (default: the first)")
	return cmd
}

// followProgress prints a session's progress until its final message.
func followProgress(w io.Writer, what string, recv func() (*operatorpb.Progress, error)) (*operatorpb.KeyInfo, error) {
	for {
		p, err := recv()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: the node closed the stream without a result", what)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		switch p.Stage {
		case "prepared":
			fmt.Fprintf(w, "  %-8s prepared (checked the request, unsealed its material)\n", p.Node)
		case "round":
			bar := strings.Repeat("#", int(p.Round)) + strings.Repeat(".", int(p.Rounds-p.Round))
			fmt.Fprintf(w, "  %-8s round %d/%d [%s]\n", p.Node, p.Round, p.Rounds, bar)
		case "done":
			fmt.Fprintf(w, "  %-8s done (result sealed and stored)\n", p.Node)
		case "complete":
			return p.Key, nil
		}
	}
}

func printKey(w io.Writer, k *operatorpb.KeyInfo) {
	fmt.Fprintf(w, "key %s  generation %d  %d-of-%d  committee %s\n", k.KeyId, k.Generation, k.Threshold+1, len(k.Committee), strings.Join(k.Committee, ","))
	fmt.Fprintf(w, "  public key  %s\n", hex.EncodeToString(k.PublicKey))
	if a, err := btc.P2WPKHAddress(k.PublicKey, "regtest"); err == nil {
		fmt.Fprintf(w, "  bitcoin     %s (regtest)\n", a)
	}
	if a, err := btc.P2WPKHAddress(k.PublicKey, "mainnet"); err == nil {
		fmt.Fprintf(w, "  bitcoin     %s (mainnet)\n", a)
	}
	if a, err := eth.AddressFromPubKeyBytes(k.PublicKey); err == nil {
		fmt.Fprintf(w, "  ethereum    %s\n", a)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parsePath(s string) ([]uint32, error) {
	if s == "" || s == "m" {
		return nil, nil
	}
	parts := strings.Split(strings.TrimPrefix(s, "m/"), "/")
	out := make([]uint32, 0, len(parts))
	for _, p := range parts {
		if strings.HasSuffix(p, "'") || strings.HasSuffix(p, "h") {
			return nil, fmt.Errorf("path %s: %w", s, ctss.ErrHardenedPath)
		}
		v, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("path %s: %q is not an index below 2^31", s, p)
		}
		out = append(out, uint32(v))
	}
	return out, nil
}
