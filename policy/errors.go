package policy

import "errors"

// Errors of loading and validating a policy document.
var (
	ErrSyntax            = errors.New("malformed policy document")
	ErrMultipleDocuments = errors.New("more than one YAML document")
	ErrTooLarge          = errors.New("document too large")
	ErrMissing           = errors.New("required field missing")
	ErrInvalid           = errors.New("invalid value")
	ErrDuplicateID       = errors.New("duplicate id")
	ErrUnknownGroup      = errors.New("unknown group")
	ErrUnknownWallet     = errors.New("unknown wallet")
	ErrUnknownOfficer    = errors.New("unknown officer")
	ErrUnknownAsset      = errors.New("unknown asset")
	ErrUnknownWhitelist  = errors.New("unknown whitelist")
	ErrUnknownRole       = errors.New("unknown initiator role")
	ErrThresholdTooLarge = errors.New("threshold larger than the group")
	ErrNeverMatches      = errors.New("rule can never match")
	ErrShadowed          = errors.New("rule is shadowed by an earlier rule")
	ErrColdEscape        = errors.New("cold or SAFU wallet may pay outside its pinned wallets")
	ErrInvalidKey        = errors.New("invalid public key")
	ErrInvalidAmount     = errors.New("invalid amount")
)

// Errors of signatures and governance.
var (
	ErrBadSignature   = errors.New("signature does not verify")
	ErrUnknownAdmin   = errors.New("unknown admin")
	ErrQuorumNotMet   = errors.New("admin quorum not met")
	ErrParentMismatch = errors.New("parent hash does not name the current head")
	ErrRollback       = errors.New("rollback to an older policy version refused")
	ErrNotFrozen      = errors.New("signing is not frozen")
	ErrNoPolicy       = errors.New("no policy")
	ErrUnsupportedKey = errors.New("unsupported key type")
)

// Errors of decoding requests and state snapshots.
var (
	ErrInvalidRequest = errors.New("invalid request")
	ErrInvalidState   = errors.New("invalid state")
)

// FieldError locates a validation error in the document, e.g.
// "rules[2] hot-out: approvals.all_of[0]: unknown group".
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(path string, err error) error { return &FieldError{Path: path, Err: err} }
