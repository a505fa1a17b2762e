package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// canonReader reads the canonical JSON of a record (see doc.go) without
// reflection: it accepts exactly the bytes encoding/json writes for the
// Record struct with HTML escaping off, for the values Record.Validate
// accepts, and fails on anything else. It is DecodeRecord's fast path;
// any failure falls back to encoding/json, so a gap here costs speed, not
// correctness. FuzzDecodeRecord checks that whatever it accepts
// re-encodes to the same bytes.
type canonReader struct {
	b   []byte
	i   int
	bad bool
}

func (r *canonReader) fail() { r.bad = true }

// lit consumes s exactly.
func (r *canonReader) lit(s string) {
	if r.bad || len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		r.fail()
		return
	}
	r.i += len(s)
}

// peek reports whether the input continues with s.
func (r *canonReader) peek(s string) bool {
	return !r.bad && len(r.b)-r.i >= len(s) && string(r.b[r.i:r.i+len(s)]) == s
}

// opt consumes s if the input continues with it (an optional field's
// `,"name":`).
func (r *canonReader) opt(s string) bool {
	if r.peek(s) {
		r.i += len(s)
		return true
	}
	return false
}

// uint reads a non-negative integer without leading zeros.
func (r *canonReader) uint(limit uint64) uint64 {
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	s := r.b[start:r.i]
	if r.bad || len(s) == 0 || (len(s) > 1 && s[0] == '0') {
		r.fail()
		return 0
	}
	v, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil || v > limit {
		r.fail()
	}
	return v
}

// str reads a string as encoding/json escapes it. Only the escapes of
// characters Validate allows are accepted: \" \\ \u2028 \u2029.
func (r *canonReader) str() string {
	r.lit(`"`)
	if r.bad {
		return ""
	}
	start := r.i
	plain := true // no escapes: the result is a plain slice of the input
	var out []byte
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if plain {
				return string(s)
			}
			return string(append(out, s...))
		case c == '\\':
			if plain {
				out, plain = make([]byte, 0, 2*(r.i-start)+8), false
			}
			out = append(out, r.b[start:r.i]...)
			switch {
			case r.peek(`\"`), r.peek(`\\`):
				out = append(out, r.b[r.i+1])
				r.i += 2
			case r.peek(`\u2028`), r.peek(`\u2029`):
				out = utf8.AppendRune(out, rune(0x2028+int(r.b[r.i+5]-'8')))
				r.i += 6
			default:
				r.fail()
				return ""
			}
			start = r.i
		case c < 0x20:
			r.fail()
			return ""
		case c < utf8.RuneSelf:
			r.i++
		default:
			ch, size := utf8.DecodeRune(r.b[r.i:])
			if (ch == utf8.RuneError && size == 1) || ch == '\u2028' || ch == '\u2029' {
				r.fail() // encoding/json would have escaped it
				return ""
			}
			r.i += size
		}
	}
	r.fail()
	return ""
}

// strs reads a []string: null (nil) or an array.
func (r *canonReader) strs() []string {
	if r.opt("null") {
		return nil
	}
	r.lit("[")
	out := []string{}
	if r.opt("]") {
		return out
	}
	for !r.bad {
		out = append(out, r.str())
		if r.opt("]") {
			return out
		}
		r.lit(",")
	}
	return nil
}

// optStrs reads an omitempty []string field: absent, or non-empty.
func (r *canonReader) optStrs(field string) []string {
	if !r.opt(field) {
		return nil
	}
	s := r.strs()
	if len(s) == 0 {
		r.fail()
	}
	return s
}

func (r *canonReader) digest() Digest {
	var d Digest
	r.lit(`"`)
	if r.bad || len(r.b)-r.i < 65 || d.UnmarshalText(r.b[r.i:r.i+64]) != nil {
		r.fail()
		return d
	}
	r.i += 64
	r.lit(`"`)
	return d
}

func (r *canonReader) hex() HexBytes {
	r.lit(`"`)
	start := r.i
	for r.i < len(r.b) && r.b[r.i] != '"' {
		r.i++
	}
	var h HexBytes
	if r.bad || h.UnmarshalText(r.b[start:r.i]) != nil {
		r.fail()
		return nil
	}
	r.lit(`"`)
	return h
}

// time reads a UTC time as time.Time.MarshalJSON writes it (RFC 3339,
// nanoseconds without trailing zeros).
func (r *canonReader) time() time.Time {
	s := r.str()
	if r.bad {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Location() != time.UTC || t.Format(time.RFC3339Nano) != s {
		r.fail()
	}
	return t
}
