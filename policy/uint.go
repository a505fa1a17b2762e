package policy

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Uint is a non-negative integer bound (basis points, sat/vB) written in
// YAML as plain decimal digits. It exists because the YAML decoder would
// otherwise truncate 1.5 to 1 and read 1e2 as 100: a bound is read
// exactly as written or not at all. JSON writes it as a number.
type Uint uint64

// UnmarshalYAML implements yaml.Unmarshaler: an untagged or !!int scalar
// of decimal digits, without sign, quotes or leading zeros, of at most
// 2^64-1.
func (u *Uint) UnmarshalYAML(n *yaml.Node) error {
	s := n.Value
	ok := n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" && s != "" && (s == "0" || s[0] != '0')
	for i := 0; ok && i < len(s); i++ {
		ok = '0' <= s[i] && s[i] <= '9'
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if !ok || err != nil {
		return fmt.Errorf("line %d: %q: want a non-negative decimal integer: %w", n.Line, s, ErrInvalid)
	}
	*u = Uint(v)
	return nil
}
