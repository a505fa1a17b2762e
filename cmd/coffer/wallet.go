package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/signer"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

var (
	walletClasses  = []string{"hot", "warm", "cold", "safu"}
	walletChains   = []string{"btc", "eth"}
	walletNetworks = []string{btc.Regtest, btc.Testnet, btc.Signet, btc.Mainnet}
)

// walletSpec is what `coffer wallet new` is asked for.
type walletSpec struct {
	id, keyID, class, chain, network string
	chainID                          uint64
	index                            uint32
	child                            bool // --index was given
}

// policyWallet is one entry of a policy's wallets list, in the policy's
// field order (policy.Wallet, without the fields of the other chain).
type policyWallet struct {
	ID        string   `yaml:"id"`
	Chain     string   `yaml:"chain"`
	Network   string   `yaml:"network,omitempty"`
	ChainID   uint64   `yaml:"chain_id,omitempty"`
	Class     string   `yaml:"class"`
	KeyID     string   `yaml:"key_id"`
	Addresses []string `yaml:"addresses,flow"`
}

func newWalletCmd(clusterPath *string) *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "Wallets: addresses derived from the cluster's threshold keys"}
	cmd.AddCommand(newWalletNewCmd(clusterPath))
	return cmd
}

func newWalletNewCmd(clusterPath *string) *cobra.Command {
	var ws walletSpec
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "new --key ID --class hot|warm|cold|safu --chain btc|eth [--index N] [--network regtest|testnet|mainnet] [--chain-id N] [--id WALLET_ID]",
		Short: "Derive a wallet address from a key and print its policy `wallets:` entry",
		Long: `Read the key's public key and chain code from a node, derive the address
(the non-hardened child m/N with --index N, the key itself otherwise) and
print the policy's wallets: entry for it. key_id is "KEY" or "KEY/N", the
form nodes derive the signing key from; every node re-derives it and
refuses a wallet whose address is not its key's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws.child = cmd.Flags().Changed("index")
			if err := ws.validate(); err != nil {
				return err
			}
			l, err := clusterLayout(*clusterPath)
			if err != nil {
				return err
			}
			cl, _, err := cf.dial(l, l.Operator.Name)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := callCtx(cmd.Context())
			defer cancel()
			resp, err := cl.Operator.ListKeys(ctx, &operatorpb.ListKeysRequest{})
			if err != nil {
				return callErr("list keys", err)
			}
			i := slices.IndexFunc(resp.Keys, func(k *operatorpb.KeyInfo) bool { return k.KeyId == ws.keyID })
			if i < 0 {
				return fmt.Errorf("wallet new: the node has no key %q", ws.keyID)
			}
			return ws.print(cmd.OutOrStdout(), resp.Keys[i])
		},
	}
	f := cmd.Flags()
	f.StringVar(&ws.keyID, "key", "", "threshold key ID (required)")
	f.StringVar(&ws.class, "class", "", "wallet class: "+strings.Join(walletClasses, ", ")+" (required)")
	f.StringVar(&ws.chain, "chain", "", "chain: btc or eth (required)")
	f.Uint32Var(&ws.index, "index", 0, "derive the non-hardened child m/N of the key")
	f.StringVar(&ws.network, "network", "", "bitcoin network: "+strings.Join(walletNetworks, ", ")+" (default regtest)")
	f.Uint64Var(&ws.chainID, "chain-id", 0, "ethereum chain ID (required for eth)")
	f.StringVar(&ws.id, "id", "", "wallet ID in the policy (default CHAIN-CLASS)")
	cf.register(f, "", "client in the dev cluster folder (default: the operator)")
	for _, n := range []string{"key", "class", "chain"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

// validate checks the flags and fills defaults; it joins every problem.
func (ws *walletSpec) validate() error {
	var errs []error
	if !signer.ValidKeyID(ws.keyID) {
		errs = append(errs, fmt.Errorf("--key %q: not a key ID", ws.keyID))
	}
	if !slices.Contains(walletClasses, ws.class) {
		errs = append(errs, fmt.Errorf("--class %q: want one of %s", ws.class, strings.Join(walletClasses, ", ")))
	}
	if ws.child && ws.index >= 1<<31 {
		errs = append(errs, fmt.Errorf("--index %d: %w", ws.index, ctss.ErrHardenedPath))
	}
	switch ws.chain {
	case "btc":
		if ws.network == "" {
			ws.network = btc.Regtest
		}
		if !slices.Contains(walletNetworks, ws.network) {
			errs = append(errs, fmt.Errorf("--network %q: want one of %s", ws.network, strings.Join(walletNetworks, ", ")))
		}
		if ws.chainID != 0 {
			errs = append(errs, errors.New("--chain-id is for eth wallets; btc wallets have a --network"))
		}
	case "eth":
		if ws.network != "" {
			errs = append(errs, errors.New("--network is for btc wallets; eth wallets have a --chain-id"))
		}
		if ws.chainID == 0 {
			errs = append(errs, errors.New("--chain-id is required for eth wallets (the policy pins it)"))
		}
	default:
		errs = append(errs, fmt.Errorf("--chain %q: want one of %s", ws.chain, strings.Join(walletChains, ", ")))
	}
	if ws.id == "" {
		ws.id = ws.chain + "-" + ws.class
	}
	if len(errs) > 0 {
		return fmt.Errorf("wallet new: %w", errors.Join(errs...))
	}
	return nil
}

// keyRef is the policy's key_id: "KEY" or "KEY/N".
func (ws *walletSpec) keyRef() string {
	if ws.child {
		return fmt.Sprintf("%s/%d", ws.keyID, ws.index)
	}
	return ws.keyID
}

// derive returns the wallet's compressed public key and address.
func (ws *walletSpec) derive(k *operatorpb.KeyInfo) (pub []byte, addr string, err error) {
	master, err := ctss.ParsePubKey(k.PublicKey)
	if err != nil {
		return nil, "", fmt.Errorf("key %s: %w", k.KeyId, err)
	}
	var path []uint32
	if ws.child {
		path = []uint32{ws.index}
	}
	_, child, err := ctss.Derive(master, k.ChainCode, path)
	if err != nil {
		return nil, "", fmt.Errorf("key %s: %w", ws.keyRef(), err)
	}
	if pub, err = ctss.CompressedPubKey(child); err != nil {
		return nil, "", fmt.Errorf("key %s: %w", ws.keyRef(), err)
	}
	if ws.chain == "btc" {
		addr, err = btc.P2WPKHAddress(pub, ws.network)
	} else {
		addr, err = eth.AddressFromPubKeyBytes(pub)
	}
	if err != nil {
		return nil, "", fmt.Errorf("address of %s: %w", ws.keyRef(), err)
	}
	return pub, addr, nil
}

// print writes the wallets: entry, with what it was derived from as
// YAML comments, so the output can be pasted under wallets: as it is.
func (ws *walletSpec) print(w io.Writer, k *operatorpb.KeyInfo) error {
	pub, addr, err := ws.derive(k)
	if err != nil {
		return err
	}
	b, err := yaml.Marshal([]policyWallet{{ID: ws.id, Chain: ws.chain, Network: ws.network, ChainID: ws.chainID,
		Class: ws.class, KeyID: ws.keyRef(), Addresses: []string{addr}}})
	if err != nil {
		return fmt.Errorf("encode wallet %s: %w", ws.id, err)
	}
	path := "m"
	if ws.child {
		path = fmt.Sprintf("m/%d", ws.index)
	}
	fmt.Fprintf(w, "# wallet %s: key %s (generation %d, %d-of-%d), child %s, public key %s\n",
		ws.id, k.KeyId, k.Generation, k.Threshold+1, len(k.Committee), path, hex.EncodeToString(pub))
	fmt.Fprintln(w, "# paste under the policy's wallets:")
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		fmt.Fprintln(w, "  "+line)
	}
	return nil
}
