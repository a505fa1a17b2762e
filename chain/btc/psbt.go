package btc

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// MaxPSBTSize bounds the PSBT that ReadPSBT accepts (binary or base64).
const MaxPSBTSize = 1 << 20

// psbtMagic starts every binary PSBT (BIP-174).
const psbtMagic = "psbt\xff"

// PSBT is what ReadPSBT found in a BIP-174 packet.
type PSBT struct {
	Unsigned []byte  // the packet's unsigned transaction
	Prevouts []UTXO  // the witness UTXOs of its inputs, in input order
	Summary  Summary // decoded from Unsigned and Prevouts
	Signed   []byte  // the extracted, verified transaction; nil unless every input is finalized
}

// PSBT writes the unsigned transaction as a binary BIP-174 packet with each
// input's witness UTXO and sighash type SIGHASH_ALL.
func (u *Unsigned) PSBT() ([]byte, error) {
	p, _, err := newPacket(u.tx, u.prevouts)
	if err != nil {
		return nil, fmt.Errorf("write PSBT: %w", err)
	}
	return writePacket(p)
}

// PSBT writes the signed transaction as a finalized binary BIP-174 packet.
func (s *Signed) PSBT() ([]byte, error) {
	unsigned := s.tx.Copy()
	for _, in := range unsigned.TxIn {
		in.Witness = nil
	}
	p, up, err := newPacket(unsigned, s.prevouts)
	if err != nil {
		return nil, fmt.Errorf("write PSBT: %w", err)
	}
	for i, in := range s.tx.TxIn {
		if outcome, err := up.Sign(i, in.Witness[0], in.Witness[1], nil, nil); err != nil || outcome != psbt.SignSuccesful {
			return nil, fmt.Errorf("write PSBT: add signature of input %d: %v: %w", i, err, ErrMalformedPSBT)
		}
	}
	if err := psbt.MaybeFinalizeAll(p); err != nil {
		return nil, fmt.Errorf("write PSBT: finalize: %v: %w", err, ErrMalformedPSBT)
	}
	return writePacket(p)
}

func newPacket(tx *wire.MsgTx, prevouts []UTXO) (*psbt.Packet, *psbt.Updater, error) {
	p, err := psbt.NewFromUnsignedTx(tx.Copy())
	if err != nil {
		return nil, nil, fmt.Errorf("create packet: %v: %w", err, ErrMalformedPSBT)
	}
	up, err := psbt.NewUpdater(p)
	if err != nil {
		return nil, nil, fmt.Errorf("create packet: %v: %w", err, ErrMalformedPSBT)
	}
	for i, u := range prevouts {
		if err := up.AddInWitnessUtxo(wire.NewTxOut(u.Amount, bytes.Clone(u.PkScript)), i); err != nil {
			return nil, nil, fmt.Errorf("add witness UTXO %d: %v: %w", i, err, ErrMalformedPSBT)
		}
		if err := up.AddInSighashType(txscript.SigHashAll, i); err != nil {
			return nil, nil, fmt.Errorf("add sighash type %d: %v: %w", i, err, ErrMalformedPSBT)
		}
	}
	return p, up, nil
}

func writePacket(p *psbt.Packet) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("write PSBT: %v: %w", err, ErrMalformedPSBT)
	}
	return buf.Bytes(), nil
}

// ReadPSBT parses a BIP-174 packet, binary or base64, whose transaction must
// have the shape this package builds on network. Every input needs its
// witness UTXO; a non-witness UTXO, if present, must agree with it. If every
// input is finalized, the extracted transaction must pass Verify.
func ReadPSBT(data []byte, network string) (*PSBT, error) {
	if len(data) > MaxPSBTSize {
		return nil, fmt.Errorf("read PSBT: %d bytes (limit %d): %w", len(data), MaxPSBTSize, ErrPSBTTooLarge)
	}
	if !bytes.HasPrefix(data, []byte(psbtMagic)) {
		dec, err := base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace(data)))
		if err != nil {
			return nil, fmt.Errorf("read PSBT: neither binary nor base64: %w", ErrMalformedPSBT)
		}
		data = dec
	}
	r := bytes.NewReader(data)
	p, err := psbt.NewFromRawBytes(r, false)
	if err != nil {
		return nil, fmt.Errorf("read PSBT: %v: %w", err, ErrMalformedPSBT)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("read PSBT: %d trailing bytes: %w", r.Len(), ErrMalformedPSBT)
	}
	prevouts, err := packetPrevouts(p)
	if err != nil {
		return nil, fmt.Errorf("read PSBT: %w", err)
	}
	sum, err := summarize(p.UnsignedTx, network, prevouts)
	if err != nil {
		return nil, fmt.Errorf("read PSBT: %w", err)
	}
	out := &PSBT{Unsigned: serialize(p.UnsignedTx), Prevouts: prevouts, Summary: sum}
	if p.IsComplete() {
		tx, err := psbt.Extract(p)
		if err != nil {
			return nil, fmt.Errorf("read PSBT: extract: %v: %w", err, ErrMalformedPSBT)
		}
		raw := serialize(tx)
		if err := Verify(raw, network, prevouts); err != nil {
			return nil, fmt.Errorf("read PSBT: %w", err)
		}
		out.Signed = raw
	}
	return out, nil
}

// packetPrevouts collects the witness UTXO of every input.
func packetPrevouts(p *psbt.Packet) ([]UTXO, error) {
	prevouts := make([]UTXO, 0, len(p.Inputs))
	for i, in := range p.Inputs {
		op := p.UnsignedTx.TxIn[i].PreviousOutPoint
		if in.WitnessUtxo == nil {
			return nil, &InputError{Index: i, Err: fmt.Errorf("read witness UTXO: %w", ErrMalformedPSBT)}
		}
		if in.SighashType != 0 && in.SighashType != txscript.SigHashAll {
			return nil, &InputError{Index: i, Err: fmt.Errorf("read sighash type %v: %w", in.SighashType, ErrUnexpectedTx)}
		}
		if prev := in.NonWitnessUtxo; prev != nil {
			if prev.TxHash() != op.Hash || int(op.Index) >= len(prev.TxOut) ||
				!psbt.TxOutsEqual(prev.TxOut[op.Index], in.WitnessUtxo) {
				return nil, &InputError{Index: i, Err: fmt.Errorf("compare non-witness and witness UTXO: %w", ErrMalformedPSBT)}
			}
		}
		prevouts = append(prevouts, UTXO{
			TxID:     op.Hash.String(),
			Vout:     op.Index,
			Amount:   in.WitnessUtxo.Value,
			PkScript: bytes.Clone(in.WitnessUtxo.PkScript),
		})
	}
	return prevouts, nil
}
