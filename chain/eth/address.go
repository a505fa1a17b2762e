package eth

import (
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// AddressFromPubKey returns the EIP-55 checksummed address of a secp256k1
// public key. The key's Curve field is not trusted: the point itself is
// checked to be on secp256k1.
func AddressFromPubKey(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil || pub.X == nil || pub.Y == nil || pub.X.Sign() < 0 || pub.Y.Sign() < 0 ||
		pub.X.BitLen() > 256 || pub.Y.BitLen() > 256 {
		return "", fmt.Errorf("read public key: %w", ErrInvalidPublicKey)
	}
	var sec1 [65]byte
	sec1[0] = 0x04
	pub.X.FillBytes(sec1[1:33])
	pub.Y.FillBytes(sec1[33:])
	return AddressFromPubKeyBytes(sec1[:])
}

// AddressFromPubKeyBytes returns the EIP-55 checksummed address of a SEC1
// secp256k1 public key, compressed (33 bytes) or uncompressed (65 bytes).
func AddressFromPubKeyBytes(pub []byte) (string, error) {
	var (
		key *ecdsa.PublicKey
		err error
	)
	switch len(pub) {
	case 33:
		key, err = crypto.DecompressPubkey(pub)
	case 65:
		key, err = crypto.UnmarshalPubkey(pub)
	default:
		return "", fmt.Errorf("read public key: %d bytes, want 33 or 65: %w", len(pub), ErrInvalidPublicKey)
	}
	if err != nil {
		return "", fmt.Errorf("read public key: %v: %w", err, ErrInvalidPublicKey)
	}
	return crypto.PubkeyToAddress(*key).Hex(), nil
}

// parseAddress reads "0x" and 40 hex digits, either all lower case (no
// checksum) or exactly in EIP-55 checksum case. The zero address is refused.
func parseAddress(field, s string) (common.Address, error) {
	if s == "" {
		return common.Address{}, fmt.Errorf("read %s: %w", field, ErrMissingField)
	}
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok || len(digits) != 2*common.AddressLength {
		return common.Address{}, fmt.Errorf("read %s %q: want 0x and 40 hex digits: %w", field, s, ErrInvalidAddress)
	}
	b, err := hex.DecodeString(digits)
	if err != nil {
		return common.Address{}, fmt.Errorf("read %s %q: %v: %w", field, s, err, ErrInvalidAddress)
	}
	addr := common.BytesToAddress(b)
	if digits != strings.ToLower(digits) && s != addr.Hex() {
		return common.Address{}, fmt.Errorf("read %s %q: want %s: %w", field, s, addr.Hex(), ErrBadChecksum)
	}
	if addr == (common.Address{}) {
		return common.Address{}, fmt.Errorf("read %s: zero address: %w", field, ErrInvalidAddress)
	}
	return addr, nil
}
