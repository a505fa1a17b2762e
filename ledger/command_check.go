package ledger

import (
	"bytes"
	"slices"
	"strings"
)

// commandFields says, per kind, which optional fields a command must carry
// and which it may carry; any other field is refused so that the log holds
// only what was applied.
var commandFields = map[CommandKind]struct{ required, optional []string }{
	CmdSubmit:   {required: []string{"submit"}},
	CmdApprove:  {required: []string{"approval"}},
	CmdSetState: {required: []string{"state"}, optional: []string{"reason", "rule", "not_before"}},
	CmdReserve:  {required: []string{"reservation"}},
	CmdRelease:  {required: []string{"reservation", "reason"}},
	CmdComplete: {required: []string{"result"}},
	CmdPolicy:   {required: []string{"policy"}},
	CmdKey:      {required: []string{"key"}},
}

// check validates everything about c that does not depend on the store.
func (c Command) check() error {
	spec, ok := commandFields[c.Kind]
	if !ok {
		return invalid("unknown command kind %q", c.Kind)
	}
	if !representable(c.At) {
		return invalid("command time %s is missing or out of range", c.At)
	}
	if c.Node == "" || len(c.Node) > maxName {
		return invalid("proposer node must be 1 to %d bytes", maxName)
	}
	if !idPattern.MatchString(c.ID) {
		return invalid("transfer id %q must match %s", c.ID, idPattern)
	}
	present := []struct {
		name string
		set  bool
	}{
		{"submit", c.Submit != nil}, {"approval", c.Approval != nil}, {"state", c.State != ""},
		{"reason", c.Reason != ""}, {"rule", c.Rule != ""}, {"not_before", !c.NotBefore.IsZero()},
		{"reservation", c.Reservation != nil}, {"result", c.Result != nil},
		{"policy", c.Policy != nil}, {"key", c.Key != nil},
	}
	for _, f := range present {
		switch {
		case slices.Contains(spec.required, f.name) && !f.set:
			return invalid("a %s command needs %s", c.Kind, f.name)
		case f.set && !slices.Contains(spec.required, f.name) && !slices.Contains(spec.optional, f.name):
			return invalid("a %s command does not take %s", c.Kind, f.name)
		}
	}
	if len(c.Reason) > maxText || len(c.Rule) > maxName {
		return invalid("reason or rule too long")
	}
	switch c.Kind {
	case CmdSubmit:
		if c.Submit.ID != c.ID {
			return invalid("command id %q differs from the submitted transfer's %q", c.ID, c.Submit.ID)
		}
		return validateNew(c.Submit)
	case CmdApprove:
		return c.Approval.validate()
	case CmdSetState:
		if !c.State.Known() {
			return invalid("unknown state %q", c.State)
		}
		if !c.NotBefore.IsZero() && !representable(c.NotBefore) {
			return invalid("not_before %s is out of range", c.NotBefore)
		}
	case CmdReserve:
		return c.Reservation.validate()
	case CmdRelease:
		if len(c.Reservation.Session) == 0 || len(c.Reservation.Session) > maxSession {
			return invalid("session must be 1 to %d bytes", maxSession)
		}
	case CmdComplete:
		return c.Result.validate()
	case CmdPolicy:
		if c.ID != "policy:"+c.Policy.Hash || len(c.Policy.Document) == 0 || len(c.Policy.Document) > maxIntent || len(c.Policy.Signatures) > maxApprovals {
			return invalid("a policy command is named policy:<hash> and carries a document of at most %d bytes", maxIntent)
		}
	case CmdKey:
		if c.ID != "key:"+c.Key.ID {
			return invalid("a key command is named key:<key ID>")
		}
		if err := c.Key.Validate(); err != nil {
			return err
		}
		if _, ok := c.Key.Member(c.Node); !ok || len(c.Key.SealedShare) == 0 || len(c.Key.SealedShare) > maxIntent {
			return invalid("a key command carries the proposer's own sealed share, and the proposer sits in the committee")
		}
	}
	return nil
}

func (a *Approval) validate() error {
	switch {
	case a.Officer == "" || len(a.Officer) > maxName || strings.ContainsFunc(a.Officer, isControl):
		return invalid("officer must be 1 to %d printable bytes", maxName)
	case a.Verdict != VerdictApprove && a.Verdict != VerdictReject:
		return invalid("verdict %q must be approve or reject", a.Verdict)
	case len(a.Signature) == 0 || len(a.Signature) > maxSignature:
		return invalid("approval signature must be 1 to %d bytes", maxSignature)
	case !representable(a.At):
		return invalid("approval time %s is out of range", a.At)
	}
	return nil
}

func (r *Reservation) validate() error {
	switch {
	case len(r.Session) == 0 || len(r.Session) > maxSession:
		return invalid("session must be 1 to %d bytes", maxSession)
	case !representable(r.At) || !representable(r.Spend.At):
		return invalid("reservation or spend time out of range")
	case len(r.Outpoints) == 0 && r.NonceKey == "":
		return invalid("a reservation needs outpoints or a nonce key")
	case len(r.Outpoints) > maxOutpoints:
		return invalid("more than %d outpoints", maxOutpoints)
	case r.NonceKey != "" && (len(r.NonceKey) > maxName || !strings.Contains(r.NonceKey, "#") || strings.ContainsFunc(r.NonceKey, isControl)):
		return invalid("nonce key %q must look like chain/address#nonce", r.NonceKey)
	case !amountPattern.MatchString(r.Spend.Amount) || len(r.Spend.Amount) > maxAmount:
		return invalid("spend amount %q must be a decimal in base units", r.Spend.Amount)
	case r.Spend.Fee != "" && (!amountPattern.MatchString(r.Spend.Fee) || len(r.Spend.Fee) > maxAmount):
		return invalid("spend fee %q must be a decimal in native base units", r.Spend.Fee)
	case len(r.Spend.Rule) > maxName:
		return invalid("spend rule longer than %d bytes", maxName)
	case len(r.Resumes) > maxSession:
		return invalid("resumed session longer than %d bytes", maxSession)
	case len(r.Superseded) > 0 || r.Silent:
		return invalid("a command cannot name superseded sessions or silence one: the ledger records them")
	case r.PossiblySigned:
		return invalid("only a release says a signature may exist")
	}
	if err := r.checkInputs(); err != nil {
		return err
	}
	seen := make(map[string]bool, len(r.Outpoints))
	for _, op := range r.Outpoints {
		txid, vout, ok := strings.Cut(op, ":")
		if !ok || txid == "" || vout == "" || len(op) > maxName || strings.ContainsFunc(op, isControl) {
			return invalid("outpoint %q must look like txid:vout", op)
		}
		if seen[op] {
			return invalid("outpoint %s listed twice", op)
		}
		seen[op] = true
	}
	return nil
}

func (r *Result) validate() error {
	switch {
	case len(r.Session) == 0 || len(r.Session) > maxSession:
		return invalid("session must be 1 to %d bytes", maxSession)
	case len(r.SignedTx) == 0 || len(r.SignedTx) > maxSignedTx:
		return invalid("signed transaction must be 1 to %d bytes", maxSignedTx)
	case r.TxHash == "" || len(r.TxHash) > maxName:
		return invalid("tx hash must be 1 to %d bytes", maxName)
	case !representable(r.At):
		return invalid("result time %s is out of range", r.At)
	}
	return nil
}

// sameHolds reports whether two reservations of one session pin the same
// outpoints and nonce.
func sameHolds(a, b *Reservation) bool {
	return bytes.Equal(a.Session, b.Session) && samePins(a, b)
}

// samePins reports whether two reservations pin the same outpoints and
// nonce, whatever their sessions.
func samePins(a, b *Reservation) bool {
	return a.NonceKey == b.NonceKey && slices.Equal(a.Outpoints, b.Outpoints) && sameInputs(a, b)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
