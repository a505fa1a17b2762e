package eth

import (
	"fmt"
	"math/big"
)

// Assets this package transfers.
const (
	AssetETH   = "ETH"   // native ether, amounts in wei
	AssetERC20 = "ERC20" // an ERC-20 token, amounts in the token's base units
)

// Intent is an Ethereum transfer from the wallet From. Amounts are in wei,
// or in token base units for AssetERC20. Pointer fields are required; a nil
// pointer means "missing".
type Intent struct {
	Network              string   // "mainnet", "sepolia", "holesky", "hoodi" or "dev"
	ChainID              uint64   // EIP-155 chain ID; must match Network
	From                 string   // the wallet address
	To                   string   // recipient of the ether or of the tokens
	Asset                string   // AssetETH or AssetERC20
	Token                string   // ERC-20 contract; empty for AssetETH
	Amount               *big.Int // wei or token base units
	Nonce                *uint64  // the wallet's next nonce
	GasLimit             uint64
	MaxFeePerGas         *big.Int // wei
	MaxPriorityFeePerGas *big.Int // wei
	MaxFee               *big.Int // the caller's cap on GasLimit × MaxFeePerGas, in wei
}

// intentJSON is the wire form of an Intent: numbers are decimal strings.
type intentJSON struct {
	Network              string `json:"network"`
	ChainID              string `json:"chain_id"`
	From                 string `json:"from"`
	To                   string `json:"to"`
	Asset                string `json:"asset"`
	Token                string `json:"token"`
	Amount               string `json:"amount"`
	Nonce                string `json:"nonce"`
	GasLimit             string `json:"gas_limit"`
	MaxFeePerGas         string `json:"max_fee_per_gas"`
	MaxPriorityFeePerGas string `json:"max_priority_fee_per_gas"`
	MaxFee               string `json:"max_fee"`
}

// DecodeIntent strictly decodes a JSON intent and validates it with the
// checks of Build. See doc.go for the format.
func DecodeIntent(data []byte) (Intent, error) {
	var w intentJSON
	if err := decodeStrict(data, &w); err != nil {
		return Intent{}, fmt.Errorf("decode intent: %w", err)
	}
	in, err := w.intent()
	if err != nil {
		return Intent{}, fmt.Errorf("decode intent: %w", err)
	}
	if _, _, err := newTx(in); err != nil {
		return Intent{}, fmt.Errorf("decode intent: %w", err)
	}
	return in, nil
}

func (w *intentJSON) intent() (Intent, error) {
	in := Intent{Network: w.Network, From: w.From, To: w.To, Asset: w.Asset, Token: w.Token}
	var err error
	if w.ChainID == "" {
		return Intent{}, fmt.Errorf("read chain_id: %w", ErrMissingChainID)
	}
	if in.ChainID, err = parseUint64("chain_id", w.ChainID); err != nil {
		return Intent{}, err
	}
	if w.Nonce == "" {
		return Intent{}, fmt.Errorf("read nonce: %w", ErrMissingNonce)
	}
	nonce, err := parseUint64("nonce", w.Nonce)
	if err != nil {
		return Intent{}, err
	}
	in.Nonce = &nonce
	if w.GasLimit == "" {
		return Intent{}, fmt.Errorf("read gas_limit: %w", ErrMissingField)
	}
	if in.GasLimit, err = parseUint64("gas_limit", w.GasLimit); err != nil {
		return Intent{}, err
	}
	for _, f := range []struct {
		name string
		src  string
		dst  **big.Int
	}{
		{"amount", w.Amount, &in.Amount},
		{"max_fee_per_gas", w.MaxFeePerGas, &in.MaxFeePerGas},
		{"max_priority_fee_per_gas", w.MaxPriorityFeePerGas, &in.MaxPriorityFeePerGas},
		{"max_fee", w.MaxFee, &in.MaxFee},
	} {
		if *f.dst, err = parseUint256(f.name, f.src); err != nil {
			return Intent{}, err
		}
	}
	return in, nil
}
