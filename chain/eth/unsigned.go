package eth

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Unsigned is a transaction built from an intent, waiting for its one
// signature. It is immutable.
type Unsigned struct {
	tx      *types.Transaction
	from    common.Address
	hash    common.Hash
	summary Summary
}

// Raw is the canonical EIP-2718 encoding of the unsigned transaction:
// 0x02 ‖ rlp([chain_id, nonce, tip, fee_cap, gas, to, value, data,
// access_list, 0, 0, 0]); DecodeSummary reads it back.
func (u *Unsigned) Raw() []byte {
	raw, _ := u.tx.MarshalBinary() // encoding a well-formed DynamicFeeTx does not fail
	return raw
}

// SigningHash is the EIP-1559 signing hash
// keccak256(0x02 ‖ rlp([chain_id, …, access_list])), computed by
// types.NewLondonSigner.
func (u *Unsigned) SigningHash() [32]byte { return u.hash }

// Sighashes returns the signing hash as the only sighash, for the same shape
// as Bitcoin's one-per-input list.
func (u *Unsigned) Sighashes() [][32]byte { return [][32]byte{u.hash} }

// Summary is decoded from the unsigned transaction, with the wallet as Source.
func (u *Unsigned) Summary() Summary { return u.summary }

// From is the wallet address the signature must recover to (EIP-55).
func (u *Unsigned) From() string { return u.from.Hex() }

// Signed is a signed transaction whose sender recovers to the wallet.
type Signed struct {
	tx      *types.Transaction
	summary Summary
}

// Raw is the EIP-2718 encoding of the signed transaction, ready for
// eth_sendRawTransaction.
func (s *Signed) Raw() []byte {
	raw, _ := s.tx.MarshalBinary() // encoding a well-formed DynamicFeeTx does not fail
	return raw
}

// Hash is the transaction hash, 0x-prefixed hex.
func (s *Signed) Hash() string { return s.tx.Hash().Hex() }

// Summary is decoded from the signed transaction; Source is the recovered
// sender.
func (s *Signed) Summary() Summary { return s.summary }
