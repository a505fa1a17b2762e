package tss

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
)

// PreParams are one party's tss-lib pre-parameters: a Paillier key and the
// safe-prime based NTilde, h1, h2 with their proofs. They are secret: a
// type of its own (not an alias of tss-lib's) so that it formats and logs
// as REDACTED and refuses JSON encoding (redact.go). Its fields and methods
// are tss-lib's; its sealed encoding (MarshalPreParams) is tss-lib's JSON.
type PreParams struct {
	keygen.LocalPreParams
}

// GeneratePreParams finds safe primes; it takes 10–40 s on two cores.
// concurrency bounds the goroutines used (at least 1).
func GeneratePreParams(ctx context.Context, concurrency int) (*PreParams, error) {
	if concurrency < 1 {
		concurrency = 1
	}
	pp, err := keygen.GeneratePreParamsWithContext(ctx, concurrency)
	if err != nil {
		return nil, fmt.Errorf("generate pre-params: %w", err)
	}
	return &PreParams{LocalPreParams: *pp}, nil
}

// MarshalPreParams encodes pre-parameters for sealing, into locked memory
// that the caller frees with secmem.Free (as MarshalShare).
func MarshalPreParams(pp *PreParams) ([]byte, error) {
	if pp == nil || !pp.ValidateWithProof() {
		return nil, fmt.Errorf("marshal pre-params: %w", ErrBadPreParams)
	}
	return marshalPreParamsData(pp.LocalPreParams)
}

// UnmarshalPreParams decodes and validates pre-parameters.
func UnmarshalPreParams(b []byte) (*PreParams, error) {
	var pp PreParams
	if err := json.Unmarshal(b, &pp.LocalPreParams); err != nil {
		return nil, fmt.Errorf("unmarshal pre-params: %w: not a pre-parameter encoding", ErrBadPreParams)
	}
	if !pp.ValidateWithProof() {
		return nil, fmt.Errorf("unmarshal pre-params: %w", ErrBadPreParams)
	}
	return &pp, nil
}
