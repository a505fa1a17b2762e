package eth

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
	ErrMissingNonce    = errors.New("missing nonce")
	ErrMissingChainID  = errors.New("missing chain ID")

	// Networks, keys and addresses.
	ErrUnknownNetwork   = errors.New("unknown network")
	ErrWrongNetwork     = errors.New("chain ID belongs to another network")
	ErrInvalidPublicKey = errors.New("invalid public key")
	ErrInvalidAddress   = errors.New("invalid address")
	ErrBadChecksum      = errors.New("address fails its EIP-55 checksum")
	ErrSelfTransfer     = errors.New("destination is the source wallet")
	ErrUnknownAsset     = errors.New("unknown asset")

	// Amounts and fees.
	ErrInvalidAmount  = errors.New("invalid amount")
	ErrZeroAmount     = errors.New("zero amount")
	ErrAmountOverflow = errors.New("amount overflow")
	ErrGasTooLow      = errors.New("gas limit below 21000")
	ErrTipAboveFeeCap = errors.New("max priority fee per gas above max fee per gas")
	ErrFeeAboveCap    = errors.New("fee above cap")

	// Transactions, signatures and verification.
	ErrMalformedTx        = errors.New("malformed transaction")
	ErrUnsupportedTxType  = errors.New("transaction type is not EIP-1559 (type 2)")
	ErrContractCreation   = errors.New("contract creation")
	ErrAccessList         = errors.New("access list")
	ErrUnexpectedCalldata = errors.New("calldata is not an ERC-20 transfer(address,uint256)")
	ErrUnexpectedValue    = errors.New("ERC-20 transfer carries ether")
	ErrSignatureCount     = errors.New("wrong number of signatures")
	ErrInvalidSignature   = errors.New("invalid signature")
	ErrNotSigned          = errors.New("transaction is not signed")
	ErrSenderMismatch     = errors.New("sender does not recover to the wallet")
	ErrSummaryMismatch    = errors.New("summary does not match intent")
)

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
