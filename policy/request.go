package policy

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Request is a transfer as a node rebuilt it from the intent: what the
// unsigned transaction really does, plus who initiated it and when.
type Request struct {
	ID            string    `json:"id"`
	Digest        Hash      `json:"digest"` // request digest officers sign
	Initiator     string    `json:"initiator"`
	InitiatorRole string    `json:"initiator_role"`
	Source        string    `json:"source"` // source wallet ID
	To            string    `json:"to"`     // destination address paid by the tx
	Asset         string    `json:"asset"`
	Amount        Amount    `json:"amount"` // base units of Asset
	Fee           Amount    `json:"fee"`    // maximum fee, native base units
	Network       string    `json:"network,omitempty"`
	ChainID       uint64    `json:"chain_id,omitempty"`
	VSize         uint64    `json:"vsize,omitempty"` // btc: virtual size of the signed tx, vB
	ETH           *ETHTx    `json:"eth,omitempty"`   // required on eth
	SubmittedAt   time.Time `json:"submitted_at"`    // starts the timelock
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
}

// ETHTx is the call an eth transaction makes. To is empty for a contract
// creation (always denied). For eth, Fee must equal GasLimit×MaxFeePerGas,
// and MaxPriorityFeePerGas (the tip, wei per gas) must not exceed
// MaxFeePerGas.
type ETHTx struct {
	To                   string   `json:"to"`
	Value                Amount   `json:"value"`
	Data                 HexBytes `json:"data"`
	GasLimit             uint64   `json:"gas_limit"`
	MaxFeePerGas         Amount   `json:"max_fee_per_gas"`
	MaxPriorityFeePerGas Amount   `json:"max_priority_fee_per_gas,omitzero"`
}

// HexBytes is a byte string written as 0x-prefixed hex.
type HexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) { return []byte("0x" + hex.EncodeToString(h)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexBytes) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(string(b), "0x")
	v, err := hex.DecodeString(s)
	if err != nil || len(b) > 0 && !bytes.HasPrefix(b, []byte("0x")) {
		return fmt.Errorf("parse hex bytes: want 0x-prefixed hex: %w", ErrInvalid)
	}
	*h = v
	return nil
}

// problems lists what is missing or malformed in r, independently of any
// policy.
func (r Request) problems() []string {
	var out []string
	req := func(ok bool, what string) {
		if !ok {
			out = append(out, what)
		}
	}
	req(r.ID != "", "id is empty")
	req(!r.Digest.IsZero(), "digest is empty")
	req(r.Initiator != "", "initiator is empty")
	req(r.Source != "", "source is empty")
	req(r.To != "", "destination address is empty")
	req(r.Asset != "", "asset is empty")
	req(!r.Amount.IsZero(), "amount must be positive")
	req(!r.SubmittedAt.IsZero(), "submitted_at is empty")
	return out
}

// DecodeRequestJSON decodes one JSON request strictly (unknown fields and
// trailing data are errors).
func DecodeRequestJSON(b []byte) (Request, error) {
	var r Request
	if err := decodeStrictJSON(b, &r); err != nil {
		return Request{}, fmt.Errorf("decode request: %w: %w", ErrInvalidRequest, err)
	}
	return r, nil
}

func decodeStrictJSON(b []byte, v any) error {
	if len(b) > MaxDocumentSize {
		return ErrTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
