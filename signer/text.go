package signer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds for text that reaches the ledger, the audit log, logs and other
// nodes from somewhere we do not control (a peer's abort, an error that
// quotes one).
const (
	maxPeerText   = 256  // a peer's own words
	maxRecordText = 1024 // a reason stored in the ledger or the audit log
)

// safeText makes s fit for a record: invalid UTF-8 and control characters
// become '?', and it is cut (on a rune boundary, marked with "…") to at
// most max bytes. No text can then make a release or an audit record
// invalid, or forge a line in a log.
func safeText(s string, max int) string {
	out := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(out) <= max {
		return out
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + "…"
}
