package btc

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// MaxInputs bounds the number of UTXOs one intent may spend.
const MaxInputs = 500

// Intent is a Bitcoin transfer: spend exactly UTXOs (all of the wallet) to
// Destination, with change back to the wallet. Amounts are in satoshi.
// Exactly one of Fee and FeeRate is non-zero.
type Intent struct {
	Network      string // "mainnet", "testnet", "regtest" or "signet"
	WalletPubKey []byte // compressed SEC1 public key of the wallet (33 bytes)
	Destination  string // address on Network
	Amount       int64  // satoshi paid to Destination
	Fee          int64  // absolute fee in satoshi, or 0
	FeeRate      int64  // fee rate in sat per 1000 vB (1 sat/vB = 1000), or 0
	MaxFee       int64  // the caller's cap on the fee, in satoshi
	UTXOs        []UTXO // inputs, in transaction order
}

// UTXO is one output of the wallet to spend, as the intent states it.
type UTXO struct {
	TxID     string // transaction ID, hex, display (reversed) byte order
	Vout     uint32
	Amount   int64  // satoshi
	PkScript []byte // must be the wallet's P2WPKH script
}

// OutPoint renders the UTXO as "txid:vout".
func (u UTXO) OutPoint() string { return u.TxID + ":" + strconv.FormatUint(uint64(u.Vout), 10) }

// intentJSON is the wire form of an Intent: amounts are decimal strings.
type intentJSON struct {
	Network      string     `json:"network"`
	WalletPubKey string     `json:"wallet_pubkey"`
	Destination  string     `json:"destination"`
	Amount       string     `json:"amount"`
	Fee          string     `json:"fee"`
	FeeRate      string     `json:"fee_rate"`
	MaxFee       string     `json:"max_fee"`
	UTXOs        []utxoJSON `json:"utxos"`
}

type utxoJSON struct {
	OutPoint string `json:"outpoint"`
	Amount   string `json:"amount"`
	PkScript string `json:"pk_script"`
}

// DecodeIntent strictly decodes a JSON intent and validates it (the checks
// of Build, including fee and funds). See doc.go for the format.
func DecodeIntent(data []byte) (Intent, error) {
	var w intentJSON
	if err := decodeStrict(data, &w); err != nil {
		return Intent{}, fmt.Errorf("decode intent: %w", err)
	}
	in, err := w.intent()
	if err != nil {
		return Intent{}, fmt.Errorf("decode intent: %w", err)
	}
	if _, err := newPlan(in); err != nil {
		return Intent{}, fmt.Errorf("decode intent: %w", err)
	}
	return in, nil
}

func (w *intentJSON) intent() (Intent, error) {
	in := Intent{Network: w.Network, Destination: w.Destination}
	var err error
	if w.WalletPubKey == "" {
		return Intent{}, fmt.Errorf("read wallet_pubkey: %w", ErrMissingField)
	}
	if in.WalletPubKey, err = hex.DecodeString(w.WalletPubKey); err != nil {
		return Intent{}, fmt.Errorf("read wallet_pubkey: %v: %w", err, ErrInvalidPublicKey)
	}
	if in.Amount, err = parseSat("amount", w.Amount); err != nil {
		return Intent{}, err
	}
	switch {
	case w.Fee != "" && w.FeeRate != "", w.Fee == "" && w.FeeRate == "":
		return Intent{}, fmt.Errorf("read fee: %w", ErrFeeMode)
	case w.Fee != "":
		if in.Fee, err = parseSat("fee", w.Fee); err != nil {
			return Intent{}, err
		}
		if in.Fee == 0 {
			return Intent{}, fmt.Errorf("read fee: %w", ErrZeroAmount)
		}
	default:
		if in.FeeRate, err = parseFeeRate(w.FeeRate); err != nil {
			return Intent{}, err
		}
	}
	if in.MaxFee, err = parseSat("max_fee", w.MaxFee); err != nil {
		return Intent{}, err
	}
	for i, u := range w.UTXOs {
		utxo, err := u.utxo()
		if err != nil {
			return Intent{}, &InputError{Index: i, Err: err}
		}
		in.UTXOs = append(in.UTXOs, utxo)
	}
	return in, nil
}

func (u utxoJSON) utxo() (UTXO, error) {
	txid, vout, err := parseOutPoint(u.OutPoint)
	if err != nil {
		return UTXO{}, err
	}
	amount, err := parseSat("utxo amount", u.Amount)
	if err != nil {
		return UTXO{}, err
	}
	if u.PkScript == "" {
		return UTXO{}, fmt.Errorf("read pk_script: %w", ErrMissingField)
	}
	script, err := hex.DecodeString(u.PkScript)
	if err != nil {
		return UTXO{}, fmt.Errorf("read pk_script: %v: %w", err, ErrForeignInput)
	}
	return UTXO{TxID: txid, Vout: vout, Amount: amount, PkScript: script}, nil
}

// parseOutPoint splits "txid:vout" and checks both parts.
func parseOutPoint(s string) (string, uint32, error) {
	txid, v, ok := strings.Cut(s, ":")
	if !ok {
		return "", 0, fmt.Errorf("parse outpoint %q: want txid:vout: %w", s, ErrInvalidOutpoint)
	}
	if _, err := parseTxID(txid); err != nil {
		return "", 0, err
	}
	if !isCanonicalUint(v) {
		return "", 0, fmt.Errorf("parse outpoint %q: bad vout: %w", s, ErrInvalidOutpoint)
	}
	vout, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("parse outpoint %q: bad vout: %w", s, ErrInvalidOutpoint)
	}
	return txid, uint32(vout), nil
}

// parseTxID parses a transaction ID written as 64 lower-case hex digits.
func parseTxID(s string) (*chainhash.Hash, error) {
	if len(s) != 2*chainhash.HashSize || strings.ToLower(s) != s {
		return nil, fmt.Errorf("parse txid %q: want 64 lower-case hex digits: %w", s, ErrInvalidOutpoint)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return nil, fmt.Errorf("parse txid %q: %v: %w", s, err, ErrInvalidOutpoint)
	}
	return h, nil
}
