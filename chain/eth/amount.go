package eth

import (
	"fmt"
	"math/big"
	"strconv"
)

// maxUint256Digits is the number of decimal digits of 2^256 − 1.
const maxUint256Digits = 78

// parseUint256 parses a canonical decimal string (digits only, no sign, no
// leading zero) of at most 2^256 − 1.
func parseUint256(field, s string) (*big.Int, error) {
	if s == "" {
		return nil, fmt.Errorf("read %s: %w", field, ErrMissingField)
	}
	if !isCanonicalUint(s) {
		return nil, fmt.Errorf("read %s %q: not a canonical decimal integer: %w", field, s, ErrInvalidAmount)
	}
	if len(s) > maxUint256Digits {
		return nil, fmt.Errorf("read %s: %d digits: %w", field, len(s), ErrAmountOverflow)
	}
	v, _ := new(big.Int).SetString(s, 10) // the digits were checked
	if v.BitLen() > 256 {
		return nil, fmt.Errorf("read %s %s: above 2^256-1: %w", field, s, ErrAmountOverflow)
	}
	return v, nil
}

// parseUint64 parses a canonical decimal string of at most 2^64 − 1.
func parseUint64(field, s string) (uint64, error) {
	if !isCanonicalUint(s) {
		return 0, fmt.Errorf("read %s %q: not a canonical decimal integer: %w", field, s, ErrInvalidAmount)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s %s: above 2^64-1: %w", field, s, ErrAmountOverflow)
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

// checkUint256 requires 0 ≤ v < 2^256 (nil counts as missing).
func checkUint256(field string, v *big.Int) error {
	switch {
	case v == nil:
		return fmt.Errorf("check %s: %w", field, ErrMissingField)
	case v.Sign() < 0:
		return fmt.Errorf("check %s %s: negative: %w", field, v, ErrInvalidAmount)
	case v.BitLen() > 256:
		return fmt.Errorf("check %s: above 2^256-1: %w", field, ErrAmountOverflow)
	}
	return nil
}
