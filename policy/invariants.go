package policy

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
)

// erc20Transfer is the selector of transfer(address,uint256).
var erc20Transfer = []byte{0xa9, 0x05, 0x9c, 0xbb}

// invariants returns why rq violates an invariant, or "".
func (ev *evaluation) invariants(rq *resolved) string {
	p, req, src := ev.p, ev.req, rq.src
	switch src.w.Chain {
	case ChainBTC:
		if req.Network != src.w.Network || req.ChainID != 0 {
			return "network " + strconv.Quote(req.Network) + " does not match wallet " + src.w.ID + " on " + strconv.Quote(src.w.Network)
		}
		if req.ETH != nil {
			return "a btc request carries an eth call"
		}
	case ChainETH:
		if req.Network != "" {
			return "an eth request names a network (" + strconv.Quote(req.Network) + "); it must give only its chain id"
		}
		if req.VSize != 0 {
			return "an eth request carries a btc vsize"
		}
		if req.ChainID != src.w.ChainID {
			return "chain id " + strconv.FormatUint(req.ChainID, 10) + " does not match wallet " + src.w.ID + " on " + strconv.FormatUint(src.w.ChainID, 10)
		}
		if why := ev.ethCall(rq); why != "" {
			return why
		}
	}
	if src.w.Class.pinnedOnly() && (rq.dst == nil || !src.pinned[rq.dst.idx]) {
		var pins []string
		for _, w := range p.wallets {
			if src.pinned[w.idx] {
				pins = append(pins, w.w.ID)
			}
		}
		return string(src.w.Class) + " wallet " + src.w.ID + " pays only to its pinned wallets [" + strings.Join(pins, ", ") + "]"
	}
	if why := ev.fees(rq); why != "" {
		return why
	}
	return ""
}

// ethCall checks that the eth transaction is a plain value transfer or an
// ERC-20 transfer to exactly the request's destination and amount, that
// the fee the request names is the transaction's maximum fee, and that its
// priority fee is within its max fee per gas.
func (ev *evaluation) ethCall(rq *resolved) string {
	req, tx := ev.req, ev.req.ETH
	if tx == nil {
		return "an eth request must carry its transaction call"
	}
	if tx.To == "" {
		return "contract creation is not allowed"
	}
	to := canonicalAddress(tx.To)
	if !isHexAddress(to) {
		return "transaction destination " + strconv.Quote(tx.To) + " is not an address"
	}
	maxFee := tx.MaxFeePerGas.Mul64(tx.GasLimit)
	if maxFee.Cmp(req.Fee) != 0 {
		return "fee " + req.Fee.String() + " is not gas_limit × max_fee_per_gas = " + maxFee.String()
	}
	// The tip is paid out of max_fee_per_gas; one above it is a malformed
	// transaction, whatever the chain would make of it.
	if tx.MaxPriorityFeePerGas.Cmp(tx.MaxFeePerGas) > 0 {
		return "priority fee " + tx.MaxPriorityFeePerGas.String() + " wei/gas exceeds max_fee_per_gas " + tx.MaxFeePerGas.String()
	}
	if rq.asset.contract == "" {
		switch {
		case len(tx.Data) > 0:
			return "calldata on a value transfer: only value transfers and ERC-20 transfer are allowed"
		case to != rq.to:
			return "transaction pays " + to + ", not the request's " + rq.to
		case tx.Value.Cmp(req.Amount) != 0:
			return "transaction value " + tx.Value.String() + " is not the request's amount " + req.Amount.String()
		}
		return ""
	}
	switch {
	case to != rq.asset.contract:
		return "transaction calls " + to + ", not the " + rq.asset.id + " contract " + rq.asset.contract
	case !tx.Value.IsZero():
		return "a token transfer must not carry eth value"
	case len(tx.Data) != 68 || !bytes.Equal(tx.Data[:4], erc20Transfer):
		return "calldata is not an ERC-20 transfer(address,uint256)"
	case !bytes.Equal(tx.Data[4:16], make([]byte, 12)):
		return "ERC-20 transfer recipient is not a 20-byte address"
	}
	if recipient := "0x" + hex.EncodeToString(tx.Data[16:36]); recipient != rq.to {
		return "ERC-20 transfer pays " + recipient + ", not the request's " + rq.to
	}
	if v := new(big.Int).SetBytes(tx.Data[36:68]); v.Cmp(req.Amount.big()) != 0 {
		return "ERC-20 transfer amount " + v.String() + " is not the request's amount " + req.Amount.String()
	}
	return ""
}
