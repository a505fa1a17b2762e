package gate

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

func (b *Built) buildBTC(asset policy.Asset, amount policy.Amount) error {
	if !amount.Big().IsInt64() {
		return IntentErr("amount %s overflows", b.In.Amount)
	}
	x := b.In.Btc
	in := btc.Intent{Network: b.Src.Network, WalletPubKey: b.SrcPub, Destination: b.To, Amount: amount.Big().Int64(),
		Fee: x.Fee, FeeRate: x.FeeRate, MaxFee: x.MaxFee}
	for _, u := range x.Utxos {
		in.UTXOs = append(in.UTXOs, btc.UTXO{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: u.PkScript})
	}
	u, err := btc.Build(in)
	if err != nil {
		return IntentErr("%v", err)
	}
	s := u.Summary()
	if err := btc.MatchIntent(in, s); err != nil {
		return IntentErr("built transaction does not match the intent: %v", err)
	}
	b.Unsigned, b.Sighashes, b.Outpoints = u.Raw(), u.Sighashes(), s.Inputs
	// what the intent states of each input, pinned by the ledger for good
	// (ledger/inputs.go): a signature commits to the amount stated
	for i, p := range u.Prevouts() {
		if i >= len(s.Inputs) || p.OutPoint() != s.Inputs[i] {
			return IntentErr("built transaction's inputs are not its prevouts")
		}
		b.Inputs = append(b.Inputs, ledger.Input{Outpoint: p.OutPoint(), Amount: p.Amount, Script: p.PkScript})
	}
	b.Summary = &transferpb.Summary{Chain: "btc", Network: s.Network, SourceAddress: s.Source, Destination: s.Destination,
		Asset: asset.ID, Amount: strconv.FormatInt(s.Amount, 10), Fee: strconv.FormatInt(s.Fee, 10), Inputs: s.Inputs}
	b.To = s.Destination
	b.Req.Amount, b.Req.Fee, b.Req.Network = policy.AmountFromUint64(uint64(s.Amount)), policy.AmountFromUint64(uint64(s.Fee)), s.Network
	// the fee rate ceiling is checked on the signed size: every input with
	// its witness, as the fee of a fee_rate intent was computed
	if vs := u.EstimatedVSize(); vs > 0 {
		b.Req.VSize = uint64(vs)
	}
	prevouts, network := u.Prevouts(), s.Network
	b.Attach = func(sigs []Sig) ([]byte, string, error) {
		bs := make([]btc.Signature, len(sigs))
		for i, g := range sigs {
			bs[i] = btc.Signature{R: g.R, S: g.S}
		}
		signed, err := u.Attach(bs)
		if err != nil {
			return nil, "", err
		}
		if err := btc.Verify(signed.Raw(), network, prevouts); err != nil {
			return nil, "", fmt.Errorf("verify signed transaction: %w", err)
		}
		return signed.Raw(), signed.TxID(), nil
	}
	return nil
}

func (b *Built) buildETH(asset policy.Asset, amount policy.Amount) error {
	x := b.In.Eth
	num := func(field, s string) (*big.Int, error) {
		v, ok := new(big.Int).SetString(s, 10)
		if !ok || v.Sign() < 0 {
			return nil, IntentErr("eth.%s %q must be a decimal in wei", field, s)
		}
		return v, nil
	}
	maxFeePerGas, err := num("max_fee_per_gas", x.MaxFeePerGas)
	if err != nil {
		return err
	}
	prio, err := num("max_priority_fee_per_gas", x.MaxPriorityFeePerGas)
	if err != nil {
		return err
	}
	maxFee, err := num("max_fee", x.MaxFee)
	if err != nil {
		return err
	}
	kind, token := eth.AssetETH, ""
	if asset.Contract != "" {
		kind, token = eth.AssetERC20, asset.Contract
	}
	nonce := x.Nonce
	in := eth.Intent{Network: eth.NetworkName(b.Src.ChainID), ChainID: b.Src.ChainID, From: b.Src.Address(), To: b.To,
		Asset: kind, Token: token, Amount: amount.Big(), Nonce: &nonce, GasLimit: x.GasLimit,
		MaxFeePerGas: maxFeePerGas, MaxPriorityFeePerGas: prio, MaxFee: maxFee}
	u, err := eth.Build(in)
	if err != nil {
		return IntentErr("%v", err)
	}
	s := u.Summary()
	if err := eth.MatchIntent(in, s); err != nil {
		return IntentErr("built transaction does not match the intent: %v", err)
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(u.Raw()); err != nil {
		return IntentErr("decode own transaction: %v", err)
	}
	b.Unsigned, b.Sighashes = u.Raw(), u.Sighashes()
	b.NonceKey = fmt.Sprintf("%d/%s#%d", s.ChainID, strings.ToLower(s.Source), s.Nonce)
	b.Summary = &transferpb.Summary{Chain: "eth", Network: s.Network, SourceAddress: s.Source, Destination: s.Destination,
		Asset: asset.ID, Amount: s.Amount, Fee: s.MaxFee, Nonce: s.Nonce, Token: s.Token}
	b.To = s.Destination
	amt, _ := policy.ParseAmount(s.Amount)
	fee, _ := policy.ParseAmount(s.MaxFee)
	value, _ := policy.AmountFromBig(tx.Value())
	gasCap, _ := policy.AmountFromBig(tx.GasFeeCap())
	tip, err := policy.AmountFromBig(tx.GasTipCap())
	if err != nil {
		return IntentErr("priority fee of own transaction: %v", err)
	}
	txTo := ""
	if tx.To() != nil {
		txTo = tx.To().Hex()
	}
	b.Req.Amount, b.Req.Fee, b.Req.ChainID = amt, fee, s.ChainID // eth requests name the chain ID only
	b.Req.ETH = &policy.ETHTx{To: txTo, Value: value, Data: tx.Data(), GasLimit: tx.Gas(), MaxFeePerGas: gasCap, MaxPriorityFeePerGas: tip}
	from := b.Src.Address()
	b.Attach = func(sigs []Sig) ([]byte, string, error) {
		if len(sigs) != 1 {
			return nil, "", fmt.Errorf("an eth transaction takes one signature, got %d", len(sigs))
		}
		signed, err := u.Attach([]eth.Signature{{R: sigs[0].R, S: sigs[0].S, V: sigs[0].Recovery}})
		if err != nil {
			return nil, "", err
		}
		if err := eth.Verify(signed.Raw(), from); err != nil {
			return nil, "", fmt.Errorf("verify signed transaction: %w", err)
		}
		return signed.Raw(), signed.Hash(), nil
	}
	return nil
}
