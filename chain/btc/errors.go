package btc

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (or is a typed error that unwraps to one), so callers test with errors.Is.
var (
	// Intent decoding.
	ErrMalformedIntent = errors.New("malformed intent")
	ErrIntentTooLarge  = errors.New("intent too large")
	ErrUnknownField    = errors.New("unknown field")
	ErrDuplicateKey    = errors.New("duplicate key")
	ErrTrailingData    = errors.New("trailing data after intent")
	ErrMissingField    = errors.New("missing field")

	// Networks, keys and addresses.
	ErrUnknownNetwork     = errors.New("unknown network")
	ErrInvalidPublicKey   = errors.New("invalid public key")
	ErrInvalidAddress     = errors.New("invalid address")
	ErrWrongNetwork       = errors.New("address is for another network")
	ErrUnsupportedAddress = errors.New("unsupported address type")
	ErrSelfTransfer       = errors.New("destination is the source wallet")

	// Amounts and fees.
	ErrInvalidAmount     = errors.New("invalid amount")
	ErrZeroAmount        = errors.New("zero amount")
	ErrDustAmount        = errors.New("amount below dust threshold")
	ErrAmountOverflow    = errors.New("amount overflow")
	ErrFeeMode           = errors.New("exactly one of fee and fee_rate must be set")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrFeeAboveCap       = errors.New("fee above cap")
	ErrDustChange        = errors.New("change below dust threshold")

	// Inputs.
	ErrNoInputs        = errors.New("no inputs")
	ErrTooManyInputs   = errors.New("too many inputs")
	ErrInvalidOutpoint = errors.New("invalid outpoint")
	ErrDuplicateInput  = errors.New("duplicate input")
	ErrForeignInput    = errors.New("input is not the wallet's P2WPKH output")

	// Transactions, signatures and verification.
	ErrMalformedTx      = errors.New("malformed transaction")
	ErrUnexpectedTx     = errors.New("transaction is not of the form this package builds")
	ErrPrevoutMismatch  = errors.New("previous outputs do not match the transaction inputs")
	ErrSignatureCount   = errors.New("wrong number of signatures")
	ErrInvalidSignature = errors.New("invalid signature")
	ErrNotSigned        = errors.New("transaction is not signed")
	ErrScriptFailed     = errors.New("script verification failed")
	ErrSummaryMismatch  = errors.New("summary does not match intent")

	// PSBT.
	ErrMalformedPSBT = errors.New("malformed PSBT")
	ErrPSBTTooLarge  = errors.New("PSBT too large")
)

// InputError reports a failure that concerns one transaction input.
type InputError struct {
	Index int
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("input %d: %v", e.Index, e.Err) }

func (e *InputError) Unwrap() error { return e.Err }

// MismatchError names the first Summary field that differs from what the
// intent builds. It unwraps to ErrSummaryMismatch.
type MismatchError struct {
	Field string
	Want  string
	Got   string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("summary field %s: want %s, got %s", e.Field, e.Want, e.Got)
}

func (e *MismatchError) Unwrap() error { return ErrSummaryMismatch }
