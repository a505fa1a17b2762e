package btc

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// prevOutFetcher maps each input of tx to the UTXO it spends. prevouts must
// be in input order and name the same outpoints.
func prevOutFetcher(tx *wire.MsgTx, prevouts []UTXO) (*txscript.MultiPrevOutFetcher, error) {
	if len(prevouts) != len(tx.TxIn) {
		return nil, fmt.Errorf("match %d previous outputs to %d inputs: %w", len(prevouts), len(tx.TxIn), ErrPrevoutMismatch)
	}
	m := make(map[wire.OutPoint]*wire.TxOut, len(prevouts))
	for i, u := range prevouts {
		h, err := parseTxID(u.TxID)
		if err != nil {
			return nil, &InputError{Index: i, Err: err}
		}
		op := wire.OutPoint{Hash: *h, Index: u.Vout}
		if op != tx.TxIn[i].PreviousOutPoint {
			return nil, &InputError{Index: i, Err: fmt.Errorf("match %s to %s: %w", u.OutPoint(), tx.TxIn[i].PreviousOutPoint, ErrPrevoutMismatch)}
		}
		if _, dup := m[op]; dup {
			return nil, &InputError{Index: i, Err: fmt.Errorf("spend %s twice: %w", op, ErrDuplicateInput)}
		}
		m[op] = wire.NewTxOut(u.Amount, u.PkScript)
	}
	return txscript.NewMultiPrevOutFetcher(m), nil
}

// sighashes computes the BIP-143 SIGHASH_ALL digest of every input of tx,
// in input order, with the library's txscript.CalcWitnessSigHash.
func sighashes(tx *wire.MsgTx, prevouts []UTXO) ([][32]byte, error) {
	fetcher, err := prevOutFetcher(tx, prevouts)
	if err != nil {
		return nil, err
	}
	cache := txscript.NewTxSigHashes(tx, fetcher)
	out := make([][32]byte, len(tx.TxIn))
	for i, u := range prevouts {
		h, err := txscript.CalcWitnessSigHash(u.PkScript, cache, txscript.SigHashAll, tx, i, u.Amount)
		if err != nil {
			return nil, &InputError{Index: i, Err: fmt.Errorf("compute sighash: %v: %w", err, ErrMalformedTx)}
		}
		if len(h) != chainhash.HashSize {
			return nil, &InputError{Index: i, Err: fmt.Errorf("compute sighash: %d bytes: %w", len(h), ErrMalformedTx)}
		}
		out[i] = [32]byte(h)
	}
	return out, nil
}
