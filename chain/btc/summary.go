package btc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Summary is what a transaction does, decoded from its bytes and the
// previous outputs it spends. Amounts are in satoshi.
type Summary struct {
	Chain       string   // always "bitcoin"
	Network     string   // network name
	Source      string   // the wallet's P2WPKH address (all inputs spend it)
	Destination string   // address of the payment output
	Asset       string   // always "BTC"
	Amount      int64    // paid to Destination
	Fee         int64    // inputs − outputs
	Change      int64    // returned to Source, 0 if there is no change output
	Inputs      []string // "txid:vout" in input order
	TxID        string   // transaction ID (the same signed and unsigned)
}

// DecodeSummary decodes a raw transaction, unsigned or signed, built by this
// package, given the UTXOs its inputs spend (in input order). It rejects any
// transaction that Build would not produce. It does not check signatures:
// use Verify for that.
func DecodeSummary(raw []byte, network string, prevouts []UTXO) (Summary, error) {
	tx, err := decodeTx(raw)
	if err != nil {
		return Summary{}, fmt.Errorf("decode summary: %w", err)
	}
	s, err := summarize(tx, network, prevouts)
	if err != nil {
		return Summary{}, fmt.Errorf("decode summary: %w", err)
	}
	return s, nil
}

// decodeTx reads exactly one transaction in its canonical serialization.
func decodeTx(raw []byte) (*wire.MsgTx, error) {
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("parse transaction: %v: %w", err, ErrMalformedTx)
	}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil || !bytes.Equal(buf.Bytes(), raw) {
		return nil, fmt.Errorf("parse transaction: trailing or non-canonical bytes: %w", ErrMalformedTx)
	}
	return tx, nil
}

// summarize checks that tx has the shape Build gives it and describes it.
func summarize(tx *wire.MsgTx, network string, prevouts []UTXO) (Summary, error) {
	p, err := params(network)
	if err != nil {
		return Summary{}, err
	}
	if len(tx.TxIn) == 0 {
		return Summary{}, fmt.Errorf("check inputs: %w", ErrNoInputs)
	}
	if tx.Version != txVersion || tx.LockTime != txLockTime {
		return Summary{}, fmt.Errorf("check version %d, lock time %d: %w", tx.Version, tx.LockTime, ErrUnexpectedTx)
	}
	if _, err := prevOutFetcher(tx, prevouts); err != nil {
		return Summary{}, err
	}
	if len(prevouts) > MaxInputs {
		return Summary{}, fmt.Errorf("check inputs: %d: %w", len(prevouts), ErrTooManyInputs)
	}
	walletScript := prevouts[0].PkScript
	if !txscript.IsPayToWitnessPubKeyHash(walletScript) {
		return Summary{}, &InputError{Index: 0, Err: fmt.Errorf("check script %x: %w", walletScript, ErrForeignInput)}
	}
	for i, in := range tx.TxIn {
		if in.Sequence != txSequence || len(in.SignatureScript) != 0 {
			return Summary{}, &InputError{Index: i, Err: fmt.Errorf("check sequence and script sig: %w", ErrUnexpectedTx)}
		}
	}
	total, err := checkInputs(prevouts, walletScript)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Chain: "bitcoin", Network: network, Asset: "BTC", TxID: tx.TxHash().String()}
	if s.Source, err = scriptAddress(walletScript, p); err != nil {
		return Summary{}, err
	}
	for _, u := range prevouts {
		s.Inputs = append(s.Inputs, u.OutPoint())
	}
	if err := readOutputs(tx.TxOut, walletScript, p, &s); err != nil {
		return Summary{}, err
	}
	if s.Fee = total - s.Amount - s.Change; s.Fee <= 0 {
		return Summary{}, fmt.Errorf("check fee %d sat: %w", s.Fee, ErrInsufficientFunds)
	}
	return s, nil
}

// readOutputs requires a payment output (not to the wallet) optionally
// followed by one change output to the wallet, neither of them dust.
func readOutputs(outs []*wire.TxOut, walletScript []byte, p *chaincfg.Params, s *Summary) error {
	if len(outs) == 0 || len(outs) > 2 {
		return fmt.Errorf("check outputs: %d, want 1 or 2: %w", len(outs), ErrUnexpectedTx)
	}
	dest := outs[0]
	if bytes.Equal(dest.PkScript, walletScript) {
		return fmt.Errorf("check output 0: %w", ErrSelfTransfer)
	}
	addr, err := scriptAddress(dest.PkScript, p)
	if err != nil {
		return fmt.Errorf("check output 0: %w", err)
	}
	if err := checkAmount(dest.Value, dest.PkScript); err != nil {
		return fmt.Errorf("check output 0: %w", err)
	}
	s.Destination, s.Amount = addr, dest.Value
	if len(outs) == 2 {
		change := outs[1]
		if !bytes.Equal(change.PkScript, walletScript) {
			return fmt.Errorf("check output 1: pays %x, not the wallet: %w", change.PkScript, ErrUnexpectedTx)
		}
		if change.Value < dustThreshold(walletScript) || change.Value > btcutil.MaxSatoshi-dest.Value {
			return fmt.Errorf("check output 1: change %d sat: %w", change.Value, ErrDustChange)
		}
		s.Change = change.Value
	}
	return nil
}

// MatchIntent rebuilds the transaction from the intent and reports the first
// field of s that differs from the rebuilt Summary (a *MismatchError), or an
// error if the intent itself is invalid.
func MatchIntent(in Intent, s Summary) error {
	u, err := Build(in)
	if err != nil {
		return fmt.Errorf("match intent: %w", err)
	}
	want := u.summary
	fields := []struct{ name, want, got string }{
		{"chain", want.Chain, s.Chain},
		{"network", want.Network, s.Network},
		{"source", want.Source, s.Source},
		{"destination", want.Destination, s.Destination},
		{"asset", want.Asset, s.Asset},
		{"amount", fmtSat(want.Amount), fmtSat(s.Amount)},
		{"fee", fmtSat(want.Fee), fmtSat(s.Fee)},
		{"change", fmtSat(want.Change), fmtSat(s.Change)},
		{"inputs", strings.Join(want.Inputs, ","), strings.Join(s.Inputs, ",")},
		{"txid", want.TxID, s.TxID},
	}
	for _, f := range fields {
		if f.want != f.got {
			return fmt.Errorf("match intent: %w", &MismatchError{Field: f.name, Want: f.want, Got: f.got})
		}
	}
	return nil
}

func fmtSat(v int64) string { return strconv.FormatInt(v, 10) + " sat" }
