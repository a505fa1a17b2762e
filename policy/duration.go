package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a non-negative time.Duration written as Go duration text
// ("90m", "48h") optionally prefixed by whole days ("7d", "1d12h").
// Its canonical text is time.Duration.String().
type Duration time.Duration

// ParseDuration parses the text form of a Duration.
func ParseDuration(s string) (Duration, error) {
	var days int64
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("parse duration %q: %w", s, ErrInvalid)
		}
		days, rest = n, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("parse duration %q: %w", s, ErrInvalid)
		}
	} else if days == 0 {
		return 0, fmt.Errorf("parse duration %q: empty: %w", s, ErrInvalid)
	}
	total := time.Duration(days)*24*time.Hour + d
	if d < 0 || total < 0 {
		return 0, fmt.Errorf("parse duration %q: negative: %w", s, ErrInvalid)
	}
	return Duration(total), nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the canonical text.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
