package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// SignedTransfer is one entry of transfers.json: a signed transaction and
// what an independent verifier needs to check it.
type SignedTransfer struct {
	RequestID string `json:"request_id"`
	Chain     string `json:"chain"`
	RawTx     string `json:"raw_tx"` // hex
	TxHash    string `json:"tx_hash"`
	// Bitcoin: the network and each input's previous output.
	Network  string    `json:"network,omitempty"`
	Prevouts []Prevout `json:"prevouts,omitempty"`
	// Ethereum: the chain ID and the sender the signature must recover to.
	ChainID        uint64 `json:"chain_id,omitempty"`
	ExpectedSender string `json:"expected_sender,omitempty"`
}

// Prevout is a spent output: outpoint, amount and locking script.
type Prevout struct {
	TxID     string `json:"txid"`
	Vout     uint32 `json:"vout"`
	Amount   int64  `json:"amount"`
	PkScript string `json:"pk_script"` // hex
}

func signedTransfer(t *transferpb.Transfer, utxos []*transferpb.UTXO, tr *devcluster.Treasury) SignedTransfer {
	st := SignedTransfer{RequestID: t.RequestId, Chain: t.Summary.GetChain(), RawTx: hex.EncodeToString(t.SignedTx), TxHash: t.TxHash}
	if st.Chain == "btc" {
		st.Network = t.Summary.GetNetwork()
		for _, u := range utxos {
			st.Prevouts = append(st.Prevouts, Prevout{TxID: u.Txid, Vout: u.Vout, Amount: u.Amount, PkScript: hex.EncodeToString(u.PkScript)})
		}
	} else {
		st.ChainID, st.ExpectedSender = tr.ChainID, t.Summary.GetSourceAddress()
	}
	return st
}

// VerifySignedTransfer checks one entry with the chain libraries alone:
// btcd's script engine on every input, or go-ethereum sender recovery and
// the chain ID.
func VerifySignedTransfer(st SignedTransfer) error {
	raw, err := hex.DecodeString(st.RawTx)
	if err != nil {
		return fmt.Errorf("%s: raw_tx: %w", st.RequestID, err)
	}
	switch st.Chain {
	case "btc":
		var ps []btc.UTXO
		for _, p := range st.Prevouts {
			script, err := hex.DecodeString(p.PkScript)
			if err != nil {
				return fmt.Errorf("%s: pk_script: %w", st.RequestID, err)
			}
			ps = append(ps, btc.UTXO{TxID: p.TxID, Vout: p.Vout, Amount: p.Amount, PkScript: script})
		}
		return btc.Verify(raw, st.Network, ps)
	case "eth":
		return eth.Verify(raw, st.ExpectedSender)
	}
	return fmt.Errorf("%s: unknown chain %q", st.RequestID, st.Chain)
}

func verifySigned(t *transferpb.Transfer, utxos []*transferpb.UTXO, tr *devcluster.Treasury) error {
	if err := VerifySignedTransfer(signedTransfer(t, utxos, tr)); err != nil {
		return fmt.Errorf("verify %s: %w", t.RequestId, err)
	}
	return nil
}

func writeTransfers(path string, done []*transferpb.Transfer, utxos map[string][]*transferpb.UTXO, tr *devcluster.Treasury) error {
	var out []SignedTransfer
	for _, t := range done {
		out = append(out, signedTransfer(t, utxos[t.RequestId], tr))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
