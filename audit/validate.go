package audit

import (
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on record fields.
const (
	maxName  = 256  // identifiers: IDs, wallets, addresses, node names
	maxText  = 4096 // free text: reasons, trace lines
	maxList  = 256  // parties, approvers, trace lines, …
	maxParty = 64   // parties of a key or session
)

var amountPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,77})$`)

// Validate reports every problem of rec, joined, each wrapping ErrInvalid.
// It checks the version, kind, that exactly the kind's body is set, and
// every field of the body. Index is not checked (the log sets it).
func (r Record) Validate() error {
	v := &validator{}
	if r.V != RecordVersion {
		v.add("v", "version %d, want %d", r.V, RecordVersion)
	}
	v.time("time", r.Time, true)
	if want, set := r.bodyFor(), r.bodies(); want == "" {
		v.add("kind", "unknown kind %.40q", r.Kind)
	} else if set != 1 || !r.hasBody(want) {
		v.add("kind", "a %s record sets exactly its %s body", r.Kind, want)
	}
	switch {
	case r.Policy != nil:
		p := r.Policy
		v.nonZero("policy.hash", p.Hash)
		v.names("policy.approvers", p.Approvers, 1)
		v.time("policy.effective_at", p.EffectiveAt, true)
	case r.Key != nil:
		k := r.Key
		v.name("key.key_id", k.KeyID)
		v.committee("key", k.Threshold, k.Parties)
		if len(k.PublicKey) == 0 || len(k.PublicKey) > 133 {
			v.add("key.public_key", "%d bytes", len(k.PublicKey))
		}
		if r.Kind == KindKeyReshared {
			v.names("key.old_parties", k.OldParties, 1)
		} else if len(k.OldParties) > 0 {
			v.add("key.old_parties", "set on a key_generated record")
		}
		v.keyConfirmations(r.Kind, k)
	case r.Transfer != nil:
		t := r.Transfer
		v.name("transfer.request_id", t.RequestID)
		v.name("transfer.wallet", t.Wallet)
		v.name("transfer.destination", t.Destination)
		v.name("transfer.asset", t.Asset)
		v.name("transfer.chain", t.Chain)
		v.name("transfer.initiator", t.Initiator)
		v.nonZero("transfer.request_digest", t.RequestDigest)
		v.nonZero("transfer.policy_hash", t.PolicyHash)
		if !amountPattern.MatchString(t.Amount) {
			v.add("transfer.amount", "%.40q is not a decimal integer", t.Amount)
		}
		v.time("transfer.expiry", t.Expiry, true)
	case r.Approval != nil:
		a := r.Approval
		v.nonZero("approval.request_digest", a.RequestDigest)
		v.name("approval.officer", a.Officer)
		if a.Verdict != VerdictApprove && a.Verdict != VerdictReject {
			v.add("approval.verdict", "%.40q, want approve or reject", a.Verdict)
		}
		if len(a.Signature) == 0 || len(a.Signature) > 512 {
			v.add("approval.signature", "%d bytes", len(a.Signature))
		}
		v.time("approval.signed_at", a.SignedAt, false)
	case r.Decision != nil:
		d := r.Decision
		v.nonZero("decision.request_digest", d.RequestDigest)
		v.nonZero("decision.policy_hash", d.PolicyHash)
		if d.Effect != EffectAllow && d.Effect != EffectPending && d.Effect != EffectDeny {
			v.add("decision.effect", "%.40q, want allow, pending or deny", d.Effect)
		}
		if d.Rule != "" {
			v.name("decision.rule", d.Rule)
		}
		v.text("decision.reason", d.Reason)
		v.texts("decision.missing", d.Missing)
		v.names("decision.approvers", d.Approvers, 0)
		v.texts("decision.trace", d.Trace)
	case r.Session != nil:
		s := r.Session
		v.nonZero("session.session_id", s.SessionID)
		v.nonZero("session.request_digest", s.RequestDigest)
		v.name("session.key_id", s.KeyID)
		v.names("session.parties", s.Parties, 1)
		v.name("session.coordinator", s.Coordinator)
	case r.Signature != nil:
		s := r.Signature
		v.nonZero("signature.session_id", s.SessionID)
		v.nonZero("signature.request_digest", s.RequestDigest)
		v.name("signature.key_id", s.KeyID)
		v.committee("signature", s.Threshold, s.Parties)
		v.name("signature.chain", s.Chain)
		v.name("signature.tx_hash", s.TxHash)
	case r.Failure != nil:
		f := r.Failure
		v.nonZero("failure.session_id", f.SessionID)
		v.nonZero("failure.request_digest", f.RequestDigest)
		v.text("failure.reason", f.Reason)
		v.names("failure.culprits", f.Culprits, 0)
	}
	return errors.Join(v.errs...)
}

// bodyFor is the JSON name of the body a kind requires ("" if unknown).
func (r Record) bodyFor() string {
	switch r.Kind {
	case KindPolicyActivated:
		return "policy"
	case KindKeyGenerated, KindKeyReshared:
		return "key"
	case KindTransferSubmitted:
		return "transfer"
	case KindApprovalRecorded:
		return "approval"
	case KindDecision:
		return "decision"
	case KindSessionStarted:
		return "session"
	case KindSignatureProduced:
		return "signature"
	case KindSessionFailed:
		return "failure"
	}
	return ""
}

func (r Record) bodyList() [8]bool {
	return [8]bool{r.Policy != nil, r.Key != nil, r.Transfer != nil, r.Approval != nil,
		r.Decision != nil, r.Session != nil, r.Signature != nil, r.Failure != nil}
}

var bodyNames = [8]string{"policy", "key", "transfer", "approval", "decision", "session", "signature", "failure"}

// bodies counts the bodies set.
func (r Record) bodies() int {
	n := 0
	for _, set := range r.bodyList() {
		if set {
			n++
		}
	}
	return n
}

func (r Record) hasBody(name string) bool {
	list := r.bodyList()
	for i, n := range bodyNames {
		if n == name {
			return list[i]
		}
	}
	return false
}

type validator struct{ errs []error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...)))
}

func (v *validator) time(field string, t time.Time, required bool) {
	switch {
	case t.IsZero():
		if required {
			v.add(field, "missing")
		}
	case t.Location() != time.UTC:
		v.add(field, "not in UTC")
	case t.Year() < 1 || t.Year() > 9999:
		v.add(field, "year %d out of range", t.Year())
	}
}

func (v *validator) nonZero(field string, d Digest) {
	if d.IsZero() {
		v.add(field, "missing")
	}
}

func (v *validator) str(field, s string, limit int, empty bool) { v.item(field, -1, s, limit, empty) }

// item checks string i of a list field (i < 0: the field itself). The
// field name is formatted only on failure: validation runs per record when
// verifying millions of entries.
func (v *validator) item(field string, i int, s string, limit int, empty bool) {
	problem := ""
	switch {
	case s == "" && !empty:
		problem = "missing"
	case len(s) > limit:
		problem = fmt.Sprintf("%d bytes, at most %d", len(s), limit)
	case !utf8.ValidString(s):
		problem = "not valid UTF-8"
	case containsControl(s):
		problem = "contains a control character"
	default:
		return
	}
	if i >= 0 {
		field = fmt.Sprintf("%s[%d]", field, i)
	}
	v.add(field, "%s", problem)
}

func (v *validator) name(field, s string) { v.str(field, s, maxName, false) }
func (v *validator) text(field, s string) { v.str(field, s, maxText, false) }

func (v *validator) texts(field string, list []string) {
	if len(list) > maxList {
		v.add(field, "%d lines, at most %d", len(list), maxList)
		return
	}
	for i, s := range list {
		v.item(field, i, s, maxText, false)
	}
}

// names checks a list of distinct identifiers, at least min of them.
func (v *validator) names(field string, list []string, min int) {
	if len(list) < min || len(list) > maxList {
		v.add(field, "%d names, want %d to %d", len(list), min, maxList)
		return
	}
	seen := make(map[string]bool, len(list))
	for i, s := range list {
		v.item(field, i, s, maxName, false)
		if seen[s] {
			v.add(field, "%.40q listed twice", s)
		}
		seen[s] = true
	}
}

func (v *validator) committee(field string, t int, parties []string) {
	v.names(field+".parties", parties, 1)
	if t < 0 || t >= len(parties) || len(parties) > maxParty {
		v.add(field+".threshold", "t=%d with %d parties (want 0 <= t < parties <= %d)", t, len(parties), maxParty)
	}
}

func containsControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// keyConfirmations checks a keygen record's confirmations: one per party,
// each an Ed25519 signature, with the session and transcript they sign.
// Reshare records carry none. (Their signatures are checked against the
// members' identity keys by whoever holds them; the log does not.)
func (v *validator) keyConfirmations(kind Kind, k *KeyEvent) {
	if kind != KindKeyGenerated || (len(k.Confirmations) == 0 && k.SessionID == nil && k.Transcript.IsZero()) {
		if len(k.Confirmations) > 0 || k.SessionID != nil || !k.Transcript.IsZero() {
			v.add("key.confirmations", "set on a %s record", kind)
		}
		return // records from before confirmations carry none
	}
	if len(k.SessionID) == 0 || len(k.SessionID) > 64 {
		v.add("key.session_id", "%d bytes", len(k.SessionID))
	}
	v.nonZero("key.transcript", k.Transcript)
	if len(k.Confirmations) != len(k.Parties) {
		v.add("key.confirmations", "%d confirmations for %d parties", len(k.Confirmations), len(k.Parties))
		return
	}
	for i, c := range k.Confirmations {
		if i >= len(k.Parties) || c.Node != k.Parties[i] {
			v.add("key.confirmations", "confirmation %d is by %q, not party %d", i, c.Node, i)
		}
		if len(c.Signature) != 64 {
			v.add("key.confirmations", "confirmation %d: signature of %d bytes", i, len(c.Signature))
		}
	}
}
