package btc

import (
	"fmt"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Verify checks a signed transaction against the UTXOs it spends (in input
// order): it must have the shape Build produces (see DecodeSummary) and the
// txscript engine, with the standard verification flags, must accept every
// input.
func Verify(signedRaw []byte, network string, prevouts []UTXO) error {
	tx, err := decodeTx(signedRaw)
	if err != nil {
		return fmt.Errorf("verify transaction: %w", err)
	}
	if _, err := summarize(tx, network, prevouts); err != nil {
		return fmt.Errorf("verify transaction: %w", err)
	}
	for i, in := range tx.TxIn {
		if len(in.Witness) == 0 {
			return fmt.Errorf("verify transaction: %w", &InputError{Index: i, Err: ErrNotSigned})
		}
	}
	if err := verifyScripts(tx, prevouts); err != nil {
		return fmt.Errorf("verify transaction: %w", err)
	}
	return nil
}

// verifyScripts runs the txscript engine on every input of tx.
func verifyScripts(tx *wire.MsgTx, prevouts []UTXO) error {
	fetcher, err := prevOutFetcher(tx, prevouts)
	if err != nil {
		return err
	}
	cache := txscript.NewTxSigHashes(tx, fetcher)
	for i, u := range prevouts {
		vm, err := txscript.NewEngine(u.PkScript, tx, i, txscript.StandardVerifyFlags, nil, cache, u.Amount, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return &InputError{Index: i, Err: fmt.Errorf("run script: %v: %w", err, ErrScriptFailed)}
		}
	}
	return nil
}
