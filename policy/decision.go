package policy

import (
	"fmt"
	"time"
)

// Effect is the outcome of Evaluate. The zero value denies.
type Effect uint8

// Effects.
const (
	EffectDeny Effect = iota
	EffectPending
	EffectAllow
)

func (e Effect) String() string {
	switch e {
	case EffectDeny:
		return "deny"
	case EffectPending:
		return "pending"
	case EffectAllow:
		return "allow"
	}
	return fmt.Sprintf("effect(%d)", uint8(e))
}

// MarshalText implements encoding.TextMarshaler.
func (e Effect) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// MissingKind says what a pending request still waits for.
type MissingKind string

// Kinds of missing conditions.
const (
	MissingApproval MissingKind = "approval"
	MissingTimelock MissingKind = "timelock"
)

// Missing is one unmet condition of a pending decision. For approvals,
// Need approvals from Group and Have of them count; AnyOf marks one
// alternative of the rule's any_of (one of them suffices). For a timelock,
// Until is when it ends.
type Missing struct {
	Kind  MissingKind `json:"kind"`
	Group string      `json:"group,omitempty"`
	Need  int         `json:"need,omitempty"`
	Have  int         `json:"have,omitempty"`
	AnyOf bool        `json:"any_of,omitempty"`
	Until time.Time   `json:"until,omitzero"`
	Text  string      `json:"text"`
}

// Decision is Evaluate's verdict and its explanation. The trace is
// deterministic: the same inputs give the same lines on every node.
type Decision struct {
	Effect     Effect    `json:"effect"`
	Rule       string    `json:"rule,omitempty"` // matched rule ID
	Reason     string    `json:"reason"`
	Missing    []Missing `json:"missing,omitempty"`
	NotBefore  time.Time `json:"not_before,omitzero"` // end of the timelock
	Approvers  []string  `json:"approvers,omitempty"` // officers counted, sorted
	PolicyHash Hash      `json:"policy_hash"`
	Trace      []string  `json:"trace"`
}

// Allowed reports whether the request may be signed now.
func (d Decision) Allowed() bool { return d.Effect == EffectAllow }
