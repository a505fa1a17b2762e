package devcluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/cofferhq/coffer/api/transferpb"
)

// FakeUTXO is a made-up output paying the wallet (dev and tests: nothing is
// broadcast; the chain library still verifies every signature against it).
func FakeUTXO(w Wallet, amount int64) *transferpb.UTXO {
	txid := make([]byte, 32)
	_, _ = rand.Read(txid)
	script := append([]byte{0x00, 0x14}, btcutil.Hash160(w.PubKey)...)
	return &transferpb.UTXO{Txid: hex.EncodeToString(txid), Vout: 0, Amount: amount, PkScript: script}
}

// BTCIntent pays amount from a BTC wallet to a destination, spending utxos.
func BTCIntent(id string, from Wallet, to string, amount int64, utxos ...*transferpb.UTXO) *transferpb.Intent {
	return &transferpb.Intent{RequestId: id, SourceWallet: from.ID, Destination: to, Asset: "BTC",
		Amount: fmt.Sprint(amount), Btc: &transferpb.BTC{Utxos: utxos, FeeRate: 2000, MaxFee: 100000}}
}

// ETHIntent pays wei from an ETH wallet with the given nonce.
func ETHIntent(id string, from Wallet, to string, wei string, nonce uint64) *transferpb.Intent {
	return &transferpb.Intent{RequestId: id, SourceWallet: from.ID, Destination: to, Asset: "ETH", Amount: wei,
		Eth: &transferpb.ETH{Nonce: nonce, GasLimit: 21000, MaxFeePerGas: "2000000000", MaxPriorityFeePerGas: "1000000000", MaxFee: "100000000000000"}}
}
