package eth

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// MaxTxSize bounds the raw transactions DecodeSummary and Verify read.
const MaxTxSize = 4 << 10

// Summary is what a transaction does, decoded from its bytes. Amounts are
// decimal strings of base units (wei, or token base units for Amount of an
// ERC-20 transfer).
type Summary struct {
	Chain                string // always "ethereum"
	Network              string // network name of ChainID
	ChainID              uint64
	Source               string // recovered sender (signed) or the given wallet (unsigned)
	Destination          string // recipient of the ether or of the tokens
	Asset                string // AssetETH or AssetERC20
	Token                string // ERC-20 contract, "" for ether
	Amount               string
	Nonce                uint64
	GasLimit             uint64
	MaxFeePerGas         string // wei
	MaxPriorityFeePerGas string // wei
	MaxFee               string // GasLimit × MaxFeePerGas: the most the fee can be, in wei
}

// DecodeSummary decodes a raw EIP-1559 transaction built by this package,
// unsigned or signed. For a signed transaction, Source is the sender that
// the signature recovers to (wallet is ignored); an unsigned one carries no
// sender, so Source is wallet. It rejects every other transaction type,
// contract creation, access lists, calldata other than an ERC-20
// transfer(address,uint256), and anything Build would refuse. It does not
// compare the sender with a wallet: use Verify for that.
func DecodeSummary(raw []byte, wallet string) (Summary, error) {
	tx, err := decodeTx(raw)
	if err != nil {
		return Summary{}, fmt.Errorf("decode summary: %w", err)
	}
	var source common.Address
	if isSigned(tx) {
		if source, err = types.Sender(types.NewLondonSigner(tx.ChainId()), tx); err != nil {
			return Summary{}, fmt.Errorf("decode summary: recover sender: %v: %w", err, ErrInvalidSignature)
		}
	} else if source, err = parseAddress("wallet", wallet); err != nil {
		return Summary{}, fmt.Errorf("decode summary: %w", err)
	}
	s, err := summarize(tx, source)
	if err != nil {
		return Summary{}, fmt.Errorf("decode summary: %w", err)
	}
	return s, nil
}

// decodeTx reads one EIP-1559 transaction in its canonical encoding.
func decodeTx(raw []byte) (*types.Transaction, error) {
	if len(raw) > MaxTxSize {
		return nil, fmt.Errorf("parse transaction: %d bytes (limit %d): %w", len(raw), MaxTxSize, ErrMalformedTx)
	}
	if len(raw) == 0 || raw[0] != types.DynamicFeeTxType {
		return nil, fmt.Errorf("parse transaction: %w", ErrUnsupportedTxType)
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("parse transaction: %v: %w", err, ErrMalformedTx)
	}
	if again, err := tx.MarshalBinary(); err != nil || !bytes.Equal(again, raw) {
		return nil, fmt.Errorf("parse transaction: non-canonical encoding: %w", ErrMalformedTx)
	}
	// Checked before any signer is made: types.NewLondonSigner panics on 0.
	if !tx.ChainId().IsUint64() || tx.ChainId().Sign() == 0 {
		return nil, fmt.Errorf("parse transaction: chain ID %s: %w", tx.ChainId(), ErrMissingChainID)
	}
	return tx, nil
}

// isSigned reports whether any signature value is set; an unsigned
// transaction has v = r = s = 0.
func isSigned(tx *types.Transaction) bool {
	v, r, s := tx.RawSignatureValues()
	return v.Sign() != 0 || r.Sign() != 0 || s.Sign() != 0
}

// summarize checks that tx has the shape Build gives it and describes it.
func summarize(tx *types.Transaction, source common.Address) (Summary, error) {
	if tx.Type() != types.DynamicFeeTxType {
		return Summary{}, fmt.Errorf("check type %d: %w", tx.Type(), ErrUnsupportedTxType)
	}
	if tx.To() == nil {
		return Summary{}, fmt.Errorf("check recipient: %w", ErrContractCreation)
	}
	if len(tx.AccessList()) != 0 {
		return Summary{}, fmt.Errorf("check access list: %d entries: %w", len(tx.AccessList()), ErrAccessList)
	}
	if !tx.ChainId().IsUint64() || tx.ChainId().Sign() == 0 {
		return Summary{}, fmt.Errorf("check chain ID %s: %w", tx.ChainId(), ErrMissingChainID)
	}
	if tx.Value().BitLen() > 256 || tx.GasTipCap().BitLen() > 256 || tx.GasFeeCap().BitLen() > 256 {
		return Summary{}, fmt.Errorf("check value and fees: %w", ErrAmountOverflow)
	}
	s := Summary{
		Chain:                "ethereum",
		ChainID:              tx.ChainId().Uint64(),
		Network:              networkName(tx.ChainId().Uint64()),
		Source:               source.Hex(),
		Nonce:                tx.Nonce(),
		GasLimit:             tx.Gas(),
		MaxFeePerGas:         tx.GasFeeCap().String(),
		MaxPriorityFeePerGas: tx.GasTipCap().String(),
		MaxFee:               maxFee(tx.Gas(), tx.GasFeeCap()).String(),
	}
	switch {
	case tx.Gas() < params.TxGas:
		return Summary{}, fmt.Errorf("check gas %d: %w", tx.Gas(), ErrGasTooLow)
	case tx.GasTipCap().Cmp(tx.GasFeeCap()) > 0:
		return Summary{}, fmt.Errorf("check fees per gas: %w", ErrTipAboveFeeCap)
	case tx.GasFeeCap().Sign() == 0:
		return Summary{}, fmt.Errorf("check fee cap: %w", ErrZeroAmount)
	case maxFee(tx.Gas(), tx.GasFeeCap()).BitLen() > 256:
		return Summary{}, fmt.Errorf("check gas × fee cap: %w", ErrAmountOverflow)
	}
	dest := *tx.To()
	if len(tx.Data()) == 0 {
		s.Asset, s.Amount = AssetETH, tx.Value().String()
		if tx.Value().Sign() == 0 {
			return Summary{}, fmt.Errorf("check value: %w", ErrZeroAmount)
		}
	} else {
		recipient, amount, ok := decodeTransfer(tx.Data())
		switch {
		case !ok:
			return Summary{}, fmt.Errorf("check calldata %d bytes: %w", len(tx.Data()), ErrUnexpectedCalldata)
		case tx.Value().Sign() != 0:
			return Summary{}, fmt.Errorf("check value %s wei: %w", tx.Value(), ErrUnexpectedValue)
		case amount.Sign() == 0:
			return Summary{}, fmt.Errorf("check token amount: %w", ErrZeroAmount)
		case recipient == dest || dest == source:
			return Summary{}, fmt.Errorf("check token %s: same as an endpoint of the transfer: %w", dest.Hex(), ErrInvalidAddress)
		}
		s.Asset, s.Token, s.Amount = AssetERC20, dest.Hex(), amount.String()
		dest = recipient
	}
	switch {
	case dest == (common.Address{}):
		return Summary{}, fmt.Errorf("check destination: zero address: %w", ErrInvalidAddress)
	case dest == source:
		return Summary{}, fmt.Errorf("check destination %s: %w", dest.Hex(), ErrSelfTransfer)
	}
	s.Destination = dest.Hex()
	return s, nil
}

// MatchIntent rebuilds the transaction from the intent and reports the first
// field of s that differs from the rebuilt Summary (a *MismatchError), or an
// error if the intent itself is invalid.
func MatchIntent(in Intent, s Summary) error {
	u, err := Build(in)
	if err != nil {
		return fmt.Errorf("match intent: %w", err)
	}
	want := u.summary
	u64 := func(v uint64) string { return strconv.FormatUint(v, 10) }
	fields := []struct{ name, want, got string }{
		{"chain", want.Chain, s.Chain},
		{"network", want.Network, s.Network},
		{"chain_id", u64(want.ChainID), u64(s.ChainID)},
		{"source", want.Source, s.Source},
		{"destination", want.Destination, s.Destination},
		{"asset", want.Asset, s.Asset},
		{"token", want.Token, s.Token},
		{"amount", want.Amount, s.Amount},
		{"nonce", u64(want.Nonce), u64(s.Nonce)},
		{"gas_limit", u64(want.GasLimit), u64(s.GasLimit)},
		{"max_fee_per_gas", want.MaxFeePerGas, s.MaxFeePerGas},
		{"max_priority_fee_per_gas", want.MaxPriorityFeePerGas, s.MaxPriorityFeePerGas},
		{"max_fee", want.MaxFee, s.MaxFee},
	}
	for _, f := range fields {
		if f.want != f.got {
			return fmt.Errorf("match intent: %w", &MismatchError{Field: f.name, Want: f.want, Got: f.got})
		}
	}
	return nil
}
