package policy

import (
	"fmt"
	"math/big"
)

// maxAmountDigits bounds a parsed amount's length; together with maxAmount
// it keeps every parsed value within 256 bits (the widest chain quantity).
const maxAmountDigits = 78

var maxAmount = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// Amount is a non-negative integer quantity in an asset's base units
// (satoshi, wei, token units). The zero value is 0. Amounts are immutable:
// every operation returns a new value. Text form: a decimal string without
// sign, leading zeros, separators or exponent.
type Amount struct{ i *big.Int }

// ParseAmount parses a canonical decimal string of at most 2^256-1.
func ParseAmount(s string) (Amount, error) {
	if s == "" || len(s) > maxAmountDigits {
		return Amount{}, fmt.Errorf("parse amount %q: %w", s, ErrInvalidAmount)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return Amount{}, fmt.Errorf("parse amount %q: not a decimal integer: %w", s, ErrInvalidAmount)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return Amount{}, fmt.Errorf("parse amount %q: leading zero: %w", s, ErrInvalidAmount)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Cmp(maxAmount) > 0 {
		return Amount{}, fmt.Errorf("parse amount %q: exceeds 2^256-1: %w", s, ErrInvalidAmount)
	}
	return Amount{i: v}, nil
}

// MustAmount is ParseAmount for constants in tests and examples; it panics
// on a malformed literal.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// AmountFromUint64 converts v.
func AmountFromUint64(v uint64) Amount { return Amount{i: new(big.Int).SetUint64(v)} }

// AmountFromBig copies a non-negative v; it reports an error for a negative
// value or one wider than 256 bits.
func AmountFromBig(v *big.Int) (Amount, error) {
	if v == nil || v.Sign() < 0 || v.Cmp(maxAmount) > 0 {
		return Amount{}, fmt.Errorf("amount from big: %w", ErrInvalidAmount)
	}
	return Amount{i: new(big.Int).Set(v)}, nil
}

func (a Amount) big() *big.Int {
	if a.i == nil {
		return new(big.Int)
	}
	return a.i
}

// Big returns a copy of the value.
func (a Amount) Big() *big.Int { return new(big.Int).Set(a.big()) }

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.i == nil || a.i.Sign() == 0 }

// Cmp compares a and b like big.Int.Cmp.
func (a Amount) Cmp(b Amount) int { return a.big().Cmp(b.big()) }

// Add returns a+b; math/big cannot overflow.
func (a Amount) Add(b Amount) Amount { return Amount{i: new(big.Int).Add(a.big(), b.big())} }

// Mul64 returns a×v.
func (a Amount) Mul64(v uint64) Amount {
	return Amount{i: new(big.Int).Mul(a.big(), new(big.Int).SetUint64(v))}
}

// String returns the decimal form.
func (a Amount) String() string { return a.big().String() }

// MarshalText implements encoding.TextMarshaler (JSON string, YAML scalar).
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseAmount.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := ParseAmount(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
