package btc

import (
	"bytes"
	"slices"

	"github.com/btcsuite/btcd/wire"
)

// Unsigned is a transaction built from an intent, waiting for one signature
// per input. It is immutable; accessors return copies.
type Unsigned struct {
	network   string
	pubKey    []byte
	tx        *wire.MsgTx
	prevouts  []UTXO
	sighashes [][32]byte
	summary   Summary
}

// Raw is the canonical serialization of the unsigned transaction (no
// witness).
func (u *Unsigned) Raw() []byte { return serialize(u.tx) }

// Sighashes are the BIP-143 SIGHASH_ALL digests, one per input, in input
// order. These and only these are what the wallet key signs.
func (u *Unsigned) Sighashes() [][32]byte { return slices.Clone(u.sighashes) }

// Summary is decoded from the unsigned transaction and its previous outputs.
func (u *Unsigned) Summary() Summary { return u.summary.clone() }

// Prevouts are the UTXOs spent, in input order (needed by DecodeSummary and
// Verify).
func (u *Unsigned) Prevouts() []UTXO { return cloneUTXOs(u.prevouts) }

// TxID is the transaction ID; signing does not change it.
func (u *Unsigned) TxID() string { return u.tx.TxHash().String() }

// EstimatedVSize is the virtual size the fee was computed for: every input
// with a P2WPKH witness holding a maximal (72-byte) signature. The signed
// transaction is never larger.
func (u *Unsigned) EstimatedVSize() int64 { return estimateVSize(u.tx) }

// Signed is a fully signed transaction that passed Verify.
type Signed struct {
	tx       *wire.MsgTx
	network  string
	prevouts []UTXO
	summary  Summary
}

// Raw is the serialization of the signed transaction (with witnesses), ready
// to broadcast.
func (s *Signed) Raw() []byte { return serialize(s.tx) }

// TxID is the transaction ID.
func (s *Signed) TxID() string { return s.tx.TxHash().String() }

// VSize is the BIP-141 virtual size of the signed transaction.
func (s *Signed) VSize() int64 { return vsize(s.tx) }

// Summary is decoded from the signed transaction.
func (s *Signed) Summary() Summary { return s.summary.clone() }

func (s Summary) clone() Summary {
	s.Inputs = slices.Clone(s.Inputs)
	return s
}

func serialize(tx *wire.MsgTx) []byte {
	var buf bytes.Buffer
	buf.Grow(tx.SerializeSize())
	_ = tx.Serialize(&buf) // writing to a bytes.Buffer does not fail
	return buf.Bytes()
}
