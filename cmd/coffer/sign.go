package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/api/operatorpb"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

func newSelfTestCmd(clusterPath *string) *cobra.Command {
	var keyID, parties, path, node string
	cmd := &cobra.Command{
		Use:   "selftest --key ID --parties node1,node2 [--path m/0/1]",
		Short: "Have t+1 nodes sign the self-test digest with a key and verify the signature",
		Long: "The self-test signs SHA-256(\"coffer/selftest/v1\" ‖ key ID ‖ random nonce), computed by every " +
			"signer itself: it exercises the HSM, the peer transport and tss-lib without ever signing a " +
			"transaction. Nodes serve it only when their config enables selftest_signing.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			p, err := parsePath(path)
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
			nonce := make([]byte, 32)
			_, _ = rand.Read(nonce)
			r, err := c.Operator.SelfTestSign(cmd.Context(), &operatorpb.SelfTestSignRequest{KeyId: keyID, Parties: ps, Nonce: nonce, DerivationPath: p})
			if err != nil {
				return err
			}
			pub, err := ctss.ParsePubKey(r.PublicKey)
			if err != nil {
				return err
			}
			ok := ecdsa.Verify(pub, r.Digest, new(big.Int).SetBytes(r.SignatureR), new(big.Int).SetBytes(r.SignatureS))
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "digest     %s\n", hex.EncodeToString(r.Digest))
			fmt.Fprintf(w, "signed by  %v with key %s (%s)\n", ps, keyID, orMaster(path))
			fmt.Fprintf(w, "public key %s\n", hex.EncodeToString(r.PublicKey))
			fmt.Fprintf(w, "r          %s\ns          %s\n", hex.EncodeToString(r.SignatureR), hex.EncodeToString(r.SignatureS))
			fmt.Fprintf(w, "verified   %v (crypto/ecdsa, here), in %d ms\n", ok, r.ElapsedUs/1000)
			if !ok {
				return fmt.Errorf("the signature does not verify")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyID, "key", "", "key ID (required)")
	f.StringVar(&parties, "parties", "", "the signing nodes (required)")
	f.StringVar(&path, "path", "", "non-hardened derivation path, e.g. m/0/7")
	f.StringVar(&node, "node", "", "coordinating node (default: the first party)")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("parties")
	return cmd
}

func orMaster(path string) string {
	if path == "" {
		return "m"
	}
	return path
}
