package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/internal/devcluster"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func newDemoCmd() *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the story on a local 3-node cluster: keygen, addresses, threshold signatures, refusals",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "cluster folder (default: a temporary one)")
	f.BoolVar(&o.keep, "keep", false, "keep the cluster folder")
	f.StringVar(&o.preparams, "preparams", "", "pre-generated pre-parameter sets (JSON) instead of waiting for safe primes")
	f.StringVar(&o.logLevel, "log-level", "info", "node log level")
	return cmd
}

func runDemo(ctx context.Context, w io.Writer, o upOptions) error {
	fmt.Fprintln(w, "Coffer demo: three signer nodes, each with its own HSM token, one threshold key.")
	c, cleanup, err := bringUp(ctx, w, o)
	if err != nil {
		return err
	}
	defer cleanup()
	l := c.Layout
	fmt.Fprintln(w, "\n• keygen: key hot-1, 2-of-3 (threshold t=1) across node1, node2, node3")
	c1, err := l.Dial("node1")
	if err != nil {
		return err
	}
	defer c1.Close()
	stream, err := c1.Operator.Keygen(ctx, &operatorpb.KeygenRequest{KeyId: "hot-1", Threshold: 1, Parties: []string{"node1", "node2", "node3"}})
	if err != nil {
		return err
	}
	key, err := followProgress(w, "keygen hot-1", stream.Recv)
	if err != nil {
		return err
	}
	printKey(w, key)

	fmt.Fprintln(w, "\n• every pair of nodes signs (self-test digest, computed by each signer itself)")
	for _, pair := range [][]string{{"node1", "node2"}, {"node2", "node3"}, {"node1", "node3"}} {
		if err := demoSign(ctx, w, l, pair, nil); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\n• child key m/0/1 (non-hardened derivation: many addresses from one key)")
	if err := demoSign(ctx, w, l, []string{"node3", "node1"}, []uint32{0, 1}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n• one node alone cannot sign")
	_, err = c1.Operator.SelfTestSign(ctx, &operatorpb.SelfTestSignRequest{KeyId: "hot-1", Parties: []string{"node1"}, Nonce: nonce()})
	if err == nil {
		return fmt.Errorf("a single node signed")
	}
	fmt.Fprintf(w, "  refused: %s\n", status.Convert(err).Message())
	fmt.Fprintln(w, "\nDemo complete.")
	return nil
}

func demoSign(ctx context.Context, w io.Writer, l *devcluster.Layout, parties []string, path []uint32) error {
	cl, err := l.Dial(parties[0])
	if err != nil {
		return err
	}
	defer cl.Close()
	r, err := cl.Operator.SelfTestSign(ctx, &operatorpb.SelfTestSignRequest{KeyId: "hot-1", Parties: parties, Nonce: nonce(), DerivationPath: path})
	if err != nil {
		return fmt.Errorf("sign with %v: %w", parties, err)
	}
	pub, err := ctss.ParsePubKey(r.PublicKey)
	if err != nil {
		return err
	}
	ok := ecdsa.Verify(pub, r.Digest, new(big.Int).SetBytes(r.SignatureR), new(big.Int).SetBytes(r.SignatureS))
	fmt.Fprintf(w, "  %s+%s  digest %s…  r %s…  verified with crypto/ecdsa: %v  (%d ms)\n", parties[0], parties[1],
		hex.EncodeToString(r.Digest[:8]), hex.EncodeToString(r.SignatureR[:8]), ok, r.ElapsedUs/1000)
	if len(path) > 0 {
		a, _ := btc.P2WPKHAddress(r.PublicKey, "regtest")
		e, _ := eth.AddressFromPubKeyBytes(r.PublicKey)
		fmt.Fprintf(w, "  child public key %s\n  bitcoin %s  ethereum %s\n", hex.EncodeToString(r.PublicKey), a, e)
	}
	if !ok {
		return fmt.Errorf("signature by %v does not verify", parties)
	}
	return nil
}

func nonce() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
