package eth

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

// Build validates the intent and builds the unsigned EIP-1559 transaction,
// its signing hash (one sighash) and its Summary.
func Build(in Intent) (*Unsigned, error) {
	tx, from, err := newTx(in)
	if err != nil {
		return nil, fmt.Errorf("build ethereum transaction: %w", err)
	}
	signer := types.NewLondonSigner(tx.ChainId())
	sum, err := summarize(tx, from)
	if err != nil {
		return nil, fmt.Errorf("build ethereum transaction: %w", err)
	}
	return &Unsigned{tx: tx, from: from, hash: signer.Hash(tx), summary: sum}, nil
}

// newTx checks every rule of an intent and returns its unsigned transaction
// and the wallet address.
func newTx(in Intent) (*types.Transaction, common.Address, error) {
	if err := checkNetwork(in.Network, in.ChainID); err != nil {
		return nil, common.Address{}, err
	}
	if in.Nonce == nil {
		return nil, common.Address{}, fmt.Errorf("check nonce: %w", ErrMissingNonce)
	}
	from, err := parseAddress("from", in.From)
	if err != nil {
		return nil, common.Address{}, err
	}
	to, err := parseAddress("to", in.To)
	if err != nil {
		return nil, common.Address{}, err
	}
	if to == from {
		return nil, common.Address{}, fmt.Errorf("check to %s: %w", to.Hex(), ErrSelfTransfer)
	}
	if err := checkUint256("amount", in.Amount); err != nil {
		return nil, common.Address{}, err
	}
	if in.Amount.Sign() == 0 {
		return nil, common.Address{}, fmt.Errorf("check amount: %w", ErrZeroAmount)
	}
	if err := checkFees(in); err != nil {
		return nil, common.Address{}, err
	}
	inner := &types.DynamicFeeTx{
		ChainID:   new(big.Int).SetUint64(in.ChainID),
		Nonce:     *in.Nonce,
		GasTipCap: new(big.Int).Set(in.MaxPriorityFeePerGas),
		GasFeeCap: new(big.Int).Set(in.MaxFeePerGas),
		Gas:       in.GasLimit,
	}
	switch in.Asset {
	case AssetETH:
		if in.Token != "" {
			return nil, common.Address{}, fmt.Errorf("check token %q for %s: %w", in.Token, AssetETH, ErrUnknownAsset)
		}
		inner.To, inner.Value = &to, new(big.Int).Set(in.Amount)
	case AssetERC20:
		token, err := parseAddress("token", in.Token)
		if err != nil {
			return nil, common.Address{}, err
		}
		if token == to || token == from {
			return nil, common.Address{}, fmt.Errorf("check token %s: same as an endpoint of the transfer: %w", token.Hex(), ErrInvalidAddress)
		}
		inner.To, inner.Value, inner.Data = &token, new(big.Int), transferCalldata(to, in.Amount)
	default:
		return nil, common.Address{}, fmt.Errorf("check asset %q: %w", in.Asset, ErrUnknownAsset)
	}
	return types.NewTx(inner), from, nil
}

// checkFees validates the fee fields and the cap on GasLimit × MaxFeePerGas.
func checkFees(in Intent) error {
	for _, f := range []struct {
		name string
		v    *big.Int
	}{
		{"max_fee_per_gas", in.MaxFeePerGas},
		{"max_priority_fee_per_gas", in.MaxPriorityFeePerGas},
		{"max_fee", in.MaxFee},
	} {
		if err := checkUint256(f.name, f.v); err != nil {
			return err
		}
	}
	if in.GasLimit < params.TxGas {
		return fmt.Errorf("check gas_limit %d: %w", in.GasLimit, ErrGasTooLow)
	}
	if in.MaxPriorityFeePerGas.Cmp(in.MaxFeePerGas) > 0 {
		return fmt.Errorf("check fees per gas: tip %s, cap %s: %w", in.MaxPriorityFeePerGas, in.MaxFeePerGas, ErrTipAboveFeeCap)
	}
	if in.MaxFeePerGas.Sign() == 0 {
		return fmt.Errorf("check max_fee_per_gas: %w", ErrZeroAmount)
	}
	if in.MaxFee.Sign() == 0 {
		return fmt.Errorf("check max_fee: %w", ErrMissingField)
	}
	fee := maxFee(in.GasLimit, in.MaxFeePerGas)
	if fee.BitLen() > 256 {
		return fmt.Errorf("check gas_limit × max_fee_per_gas: %w", ErrAmountOverflow)
	}
	if fee.Cmp(in.MaxFee) > 0 {
		return fmt.Errorf("check fee %s wei against cap %s wei: %w", fee, in.MaxFee, ErrFeeAboveCap)
	}
	return nil
}

// maxFee is the most the transaction can cost in fees: gas × fee cap.
func maxFee(gas uint64, feeCap *big.Int) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(gas), feeCap)
}
