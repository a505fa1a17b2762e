package btc

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Attach puts one signature per input (in input order) into the transaction.
// Each signature is normalized to low S, checked against its sighash and the
// wallet key, DER-encoded with SIGHASH_ALL, and placed in a P2WPKH witness;
// the script engine then verifies every input (Verify).
func (u *Unsigned) Attach(sigs []Signature) (*Signed, error) {
	if len(sigs) != len(u.tx.TxIn) {
		return nil, fmt.Errorf("attach signatures: %d for %d inputs: %w", len(sigs), len(u.tx.TxIn), ErrSignatureCount)
	}
	pub, err := btcec.ParsePubKey(u.pubKey)
	if err != nil {
		return nil, fmt.Errorf("attach signatures: %v: %w", err, ErrInvalidPublicKey)
	}
	tx := u.tx.Copy()
	for i, s := range sigs {
		sig, err := s.ecdsaSig()
		if err != nil {
			return nil, fmt.Errorf("attach signatures: %w", &InputError{Index: i, Err: err})
		}
		if !sig.Verify(u.sighashes[i][:], pub) {
			return nil, fmt.Errorf("attach signatures: %w", &InputError{Index: i,
				Err: fmt.Errorf("verify against sighash %x: %w", u.sighashes[i], ErrInvalidSignature)})
		}
		der := append(sig.Serialize(), byte(txscript.SigHashAll))
		tx.TxIn[i].Witness = wire.TxWitness{der, bytes.Clone(u.pubKey)}
	}
	raw := serialize(tx)
	if err := Verify(raw, u.network, u.prevouts); err != nil {
		return nil, fmt.Errorf("attach signatures: %w", err)
	}
	sum, err := summarize(tx, u.network, u.prevouts)
	if err != nil {
		return nil, fmt.Errorf("attach signatures: %w", err)
	}
	return &Signed{tx: tx, network: u.network, prevouts: cloneUTXOs(u.prevouts), summary: sum}, nil
}
