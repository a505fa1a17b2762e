package btc

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Transaction fields this package always uses (and DecodeSummary demands).
const (
	txVersion  = 2
	txLockTime = 0
	txSequence = wire.MaxTxInSequenceNum // final, no RBF: a UTXO is signed into one transaction only
)

// Sizes of the placeholder witness used to size a transaction before it is
// signed: the largest low-S DER signature (71 bytes) plus the sighash byte,
// and a compressed public key.
const (
	maxSigSize = 72
	pubKeySize = 33
)

// plan is a validated intent turned into an unsigned transaction.
type plan struct {
	pubKey   []byte
	tx       *wire.MsgTx
	prevouts []UTXO
}

// Build validates the intent and builds the unsigned transaction, its BIP-143
// sighashes (SIGHASH_ALL, one per input, in input order) and its Summary.
func Build(in Intent) (*Unsigned, error) {
	p, err := newPlan(in)
	if err != nil {
		return nil, fmt.Errorf("build bitcoin transaction: %w", err)
	}
	hashes, err := sighashes(p.tx, p.prevouts)
	if err != nil {
		return nil, fmt.Errorf("build bitcoin transaction: %w", err)
	}
	sum, err := summarize(p.tx, in.Network, p.prevouts)
	if err != nil {
		return nil, fmt.Errorf("build bitcoin transaction: %w", err)
	}
	return &Unsigned{
		network:   in.Network,
		pubKey:    bytes.Clone(p.pubKey),
		tx:        p.tx,
		prevouts:  cloneUTXOs(p.prevouts),
		sighashes: hashes,
		summary:   sum,
	}, nil
}

// newPlan checks every rule of an intent and lays out the transaction.
func newPlan(in Intent) (*plan, error) {
	p, err := params(in.Network)
	if err != nil {
		return nil, err
	}
	wallet, err := p2wpkh(in.WalletPubKey, p)
	if err != nil {
		return nil, err
	}
	walletScript, err := txscript.PayToAddrScript(wallet)
	if err != nil {
		return nil, fmt.Errorf("build wallet script: %v: %w", err, ErrInvalidPublicKey)
	}
	dest, destScript, err := parseAddress(in.Destination, p)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(destScript, walletScript) {
		return nil, fmt.Errorf("check destination %s: %w", dest.EncodeAddress(), ErrSelfTransfer)
	}
	if err := checkAmount(in.Amount, destScript); err != nil {
		return nil, err
	}
	total, err := checkInputs(in.UTXOs, walletScript)
	if err != nil {
		return nil, err
	}
	if err := checkFeeFields(in); err != nil {
		return nil, err
	}
	if total < in.Amount {
		return nil, fmt.Errorf("fund %d sat from %d sat of inputs: %w", in.Amount, total, ErrInsufficientFunds)
	}

	tx := wire.NewMsgTx(txVersion)
	tx.LockTime = txLockTime
	for _, u := range in.UTXOs {
		h, _ := parseTxID(u.TxID) // checked by checkInputs
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(h, u.Vout), nil, nil))
		tx.TxIn[len(tx.TxIn)-1].Sequence = txSequence
	}
	tx.AddTxOut(wire.NewTxOut(in.Amount, destScript))

	fee, change, err := settleFee(in, tx, total, walletScript)
	if err != nil {
		return nil, err
	}
	if fee > in.MaxFee {
		return nil, fmt.Errorf("check fee %d sat against cap %d sat: %w", fee, in.MaxFee, ErrFeeAboveCap)
	}
	if change > 0 {
		tx.AddTxOut(wire.NewTxOut(change, walletScript))
	}
	return &plan{pubKey: in.WalletPubKey, tx: tx, prevouts: in.UTXOs}, nil
}

// checkAmount rejects zero, negative, oversized and dust payments.
func checkAmount(amount int64, script []byte) error {
	switch {
	case amount == 0:
		return fmt.Errorf("check amount: %w", ErrZeroAmount)
	case amount < 0:
		return fmt.Errorf("check amount %d: %w", amount, ErrInvalidAmount)
	case amount > btcutil.MaxSatoshi:
		return fmt.Errorf("check amount %d: %w", amount, ErrAmountOverflow)
	case amount < dustThreshold(script):
		return fmt.Errorf("check amount %d sat: threshold %d sat: %w", amount, dustThreshold(script), ErrDustAmount)
	}
	return nil
}

// maxFeeRate bounds FeeRate (sat/kvB) so that fee arithmetic cannot overflow.
const maxFeeRate = 10_000_000_000_000

// checkFeeFields requires exactly one fee mode and a positive cap.
func checkFeeFields(in Intent) error {
	switch {
	case in.Fee < 0 || in.FeeRate < 0:
		return fmt.Errorf("check fee %d / fee rate %d: %w", in.Fee, in.FeeRate, ErrInvalidAmount)
	case (in.Fee > 0) == (in.FeeRate > 0):
		return fmt.Errorf("check fee: %w", ErrFeeMode)
	case in.Fee > btcutil.MaxSatoshi || in.FeeRate > maxFeeRate:
		return fmt.Errorf("check fee %d / fee rate %d: %w", in.Fee, in.FeeRate, ErrAmountOverflow)
	case in.MaxFee == 0:
		return fmt.Errorf("check max_fee: %w", ErrMissingField)
	case in.MaxFee < 0 || in.MaxFee > btcutil.MaxSatoshi:
		return fmt.Errorf("check max_fee %d: %w", in.MaxFee, ErrInvalidAmount)
	}
	return nil
}

// checkInputs validates the UTXO list and returns the sum of its amounts.
func checkInputs(utxos []UTXO, walletScript []byte) (int64, error) {
	if len(utxos) == 0 {
		return 0, fmt.Errorf("check inputs: %w", ErrNoInputs)
	}
	if len(utxos) > MaxInputs {
		return 0, fmt.Errorf("check inputs: %d (limit %d): %w", len(utxos), MaxInputs, ErrTooManyInputs)
	}
	seen := make(map[string]int, len(utxos))
	var total int64
	for i, u := range utxos {
		if _, err := parseTxID(u.TxID); err != nil {
			return 0, &InputError{Index: i, Err: err}
		}
		if j, dup := seen[u.OutPoint()]; dup {
			return 0, &InputError{Index: i, Err: fmt.Errorf("check outpoint %s: same as input %d: %w", u.OutPoint(), j, ErrDuplicateInput)}
		}
		seen[u.OutPoint()] = i
		if !bytes.Equal(u.PkScript, walletScript) {
			return 0, &InputError{Index: i, Err: fmt.Errorf("check script %x: %w", u.PkScript, ErrForeignInput)}
		}
		switch {
		case u.Amount <= 0:
			return 0, &InputError{Index: i, Err: fmt.Errorf("check amount %d: %w", u.Amount, ErrInvalidAmount)}
		case u.Amount > btcutil.MaxSatoshi-total:
			return 0, &InputError{Index: i, Err: fmt.Errorf("sum input amounts: %w", ErrAmountOverflow)}
		}
		total += u.Amount
	}
	return total, nil
}

// settleFee returns the fee and the change for tx (which has its inputs and
// the destination output). With a fee rate the fee covers the vsize of the
// signed transaction (estimated with maximal signatures); change below the
// dust threshold is then left to the fee. With an absolute fee, such change
// is an error, since the fee would silently differ from the intent.
func settleFee(in Intent, tx *wire.MsgTx, total int64, walletScript []byte) (fee, change int64, err error) {
	left := total - in.Amount
	dust := dustThreshold(walletScript)
	if in.Fee > 0 {
		change = left - in.Fee
		switch {
		case change < 0:
			return 0, 0, fmt.Errorf("fund %d sat plus fee %d sat from %d sat: %w", in.Amount, in.Fee, total, ErrInsufficientFunds)
		case change > 0 && change < dust:
			return 0, 0, fmt.Errorf("leave change of %d sat (threshold %d): %w", change, dust, ErrDustChange)
		}
		return in.Fee, change, nil
	}
	withChange := tx.Copy()
	withChange.AddTxOut(wire.NewTxOut(0, walletScript))
	fee = feeFor(in.FeeRate, estimateVSize(withChange))
	if change = left - fee; change >= dust {
		return fee, change, nil
	}
	if fee = feeFor(in.FeeRate, estimateVSize(tx)); left < fee {
		return 0, 0, fmt.Errorf("fund %d sat plus fee %d sat from %d sat: %w", in.Amount, fee, total, ErrInsufficientFunds)
	}
	return left, 0, nil
}

// estimateVSize is the vsize of tx once every input carries a P2WPKH
// witness with a maximal signature.
func estimateVSize(tx *wire.MsgTx) int64 {
	sized := tx.Copy()
	for _, in := range sized.TxIn {
		in.Witness = wire.TxWitness{make([]byte, maxSigSize), make([]byte, pubKeySize)}
	}
	return vsize(sized)
}

func cloneUTXOs(us []UTXO) []UTXO {
	out := make([]UTXO, len(us))
	for i, u := range us {
		u.PkScript = bytes.Clone(u.PkScript)
		out[i] = u
	}
	return out
}
