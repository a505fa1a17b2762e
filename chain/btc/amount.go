package btc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// maxAmountDigits bounds the length of a decimal amount before parsing.
const maxAmountDigits = 20

// dustRelayFeePerKvB is Bitcoin Core's default dust relay fee (3 sat/vB).
const dustRelayFeePerKvB = 3000

// parseSat parses a canonical decimal string of satoshi: digits only, no
// sign, no leading zero, at most btcutil.MaxSatoshi.
func parseSat(field, s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("parse %s: empty: %w", field, ErrMissingField)
	}
	if !isCanonicalUint(s) {
		return 0, fmt.Errorf("parse %s %q: not a canonical decimal integer: %w", field, s, ErrInvalidAmount)
	}
	if len(s) > maxAmountDigits {
		return 0, fmt.Errorf("parse %s: %d digits: %w", field, len(s), ErrAmountOverflow)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > btcutil.MaxSatoshi {
		return 0, fmt.Errorf("parse %s %s: above %d sat: %w", field, s, int64(btcutil.MaxSatoshi), ErrAmountOverflow)
	}
	return int64(v), nil
}

// parseFeeRate parses a fee rate in sat/vB with at most three decimals and
// returns it in sat per 1000 vB, so that fee arithmetic stays in integers.
func parseFeeRate(s string) (int64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !isCanonicalUint(whole) || (hasFrac && (frac == "" || len(frac) > 3 || strings.Trim(frac, "0123456789") != "")) {
		return 0, fmt.Errorf("parse fee_rate %q: want sat/vB with at most 3 decimals: %w", s, ErrInvalidAmount)
	}
	if len(whole) > 10 { // keeps the rate below maxFeeRate
		return 0, fmt.Errorf("parse fee_rate %q: %w", s, ErrAmountOverflow)
	}
	frac += strings.Repeat("0", 3-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse fee_rate %q: %v: %w", s, err, ErrInvalidAmount)
	}
	if v == 0 {
		return 0, fmt.Errorf("parse fee_rate: %w", ErrZeroAmount)
	}
	return v, nil
}

// isCanonicalUint reports whether s is "0" or digits without a leading zero.
func isCanonicalUint(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// dustThreshold is the smallest value an output with this script may carry
// under Bitcoin Core's default policy (the rule of btcd's
// mempool.GetDustThreshold at 3 sat/vB): the cost of creating and later
// spending the output. 294 sat for P2WPKH, 330 for P2WSH/P2TR, 546 for P2PKH.
func dustThreshold(pkScript []byte) int64 {
	size := int64(wire.NewTxOut(0, pkScript).SerializeSize()) + 32 + 4 + 1 + 4 // outpoint, script length, sequence
	if txscript.IsWitnessProgram(pkScript) {
		size += 107 / 4 // signature and public key, witness-discounted
	} else {
		size += 107
	}
	return size * dustRelayFeePerKvB / 1000
}

// feeFor returns ceil(rate × vsize / 1000) for a rate in sat/kvB.
func feeFor(ratePerKvB, vsize int64) int64 {
	return (ratePerKvB*vsize + 999) / 1000
}

// vsize is the BIP-141 virtual size of tx: ceil(weight / 4), with btcd's
// weight (3 × stripped size + total size), as its mempool computes it.
func vsize(tx *wire.MsgTx) int64 {
	weight := blockchain.GetTransactionWeight(btcutil.NewTx(tx))
	return (weight + blockchain.WitnessScaleFactor - 1) / blockchain.WitnessScaleFactor
}
