package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verdict is an officer's answer to a request. Its byte value is the one
// signed in the approval message.
type Verdict uint8

// Verdicts.
const (
	VerdictApprove Verdict = 1
	VerdictReject  Verdict = 2
)

func (v Verdict) String() string {
	switch v {
	case VerdictApprove:
		return "approve"
	case VerdictReject:
		return "reject"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// MarshalText implements encoding.TextMarshaler.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Verdict) UnmarshalText(b []byte) error {
	switch string(b) {
	case "approve":
		*v = VerdictApprove
	case "reject":
		*v = VerdictReject
	default:
		return fmt.Errorf("parse verdict %q: want approve or reject: %w", b, ErrInvalid)
	}
	return nil
}

// Approval is an officer's verdict whose signature the caller has verified
// (see VerifyApproval), as recorded by the ledger at At.
type Approval struct {
	Officer string    `json:"officer"`
	Verdict Verdict   `json:"verdict"`
	Digest  Hash      `json:"digest"`
	At      time.Time `json:"at"`
}

// Spend is a transfer already signed (or reserved), as the ledger recorded it.
// Fee is its maximum fee in native base units of the source's chain (for an
// ERC-20 transfer, wei): it counts toward the source's fee budgets and its
// source-scoped limits of the native asset, whatever the spend's asset.
type Spend struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"` // source wallet ID
	To     string    `json:"to"`     // destination address
	Rule   string    `json:"rule"`   // rule that allowed it
	Asset  string    `json:"asset"`
	Amount Amount    `json:"amount"`
	Fee    Amount    `json:"fee,omitzero"`
}

// WhitelistActivation is the ledger's record of when a whitelist entry
// became (or becomes) usable; an entry is active from the later of this and
// its added_at + active_after.
type WhitelistActivation struct {
	Whitelist  string    `json:"whitelist"`
	Address    string    `json:"address"`
	ActiveFrom time.Time `json:"active_from"`
}

// Snapshot is what the ledger knows, as plain data. The order of its
// slices does not matter.
type Snapshot struct {
	Frozen               bool                  `json:"frozen"`
	Approvals            []Approval            `json:"approvals"`
	Spends               []Spend               `json:"spends"`
	WhitelistActivations []WhitelistActivation `json:"whitelist_activations"`
}

// DecodeSnapshotJSON decodes one JSON snapshot strictly.
func DecodeSnapshotJSON(b []byte) (Snapshot, error) {
	var s Snapshot
	if err := decodeStrictJSON(b, &s); err != nil {
		return Snapshot{}, fmt.Errorf("decode state: %w: %w", ErrInvalidState, err)
	}
	return s, nil
}

// State is an indexed, immutable Snapshot: approvals by request digest,
// spends sorted by time per scope with prefix sums, and whitelist
// activations in maps. The zero State is empty and not frozen.
type State struct{ ix *stateIndex }

type stateIndex struct {
	frozen    bool
	approvals []Approval              // sorted (digest, officer, at, verdict)
	byDigest  map[Hash][]Approval     // views into approvals
	spends    spendSource             // shared by WithApprovals/WithFrozen
	wlFrom    map[[2]string]time.Time // (whitelist, address) → active from
	wlActs    []WhitelistActivation
}

var emptyIndex = &stateIndex{spends: &spendIndex{}}

func (s State) index() *stateIndex {
	if s.ix == nil {
		return emptyIndex
	}
	return s.ix
}

// NewState validates and indexes a snapshot.
func NewState(s Snapshot) (State, error) {
	var problems []string
	ix := &stateIndex{frozen: s.Frozen, wlFrom: map[[2]string]time.Time{}}
	approvals, err := indexApprovals(s.Approvals)
	if err != nil {
		problems = append(problems, err.Error())
	}
	ix.setApprovals(approvals)
	sp, err := newSpendIndex(s.Spends)
	if err != nil {
		problems = append(problems, err.Error())
	}
	ix.spends = sp
	for i, a := range s.WhitelistActivations {
		if a.Whitelist == "" || a.Address == "" || a.ActiveFrom.IsZero() {
			problems = append(problems, fmt.Sprintf("whitelist_activations[%d]: whitelist, address and active_from are required", i))
			continue
		}
		k := [2]string{a.Whitelist, canonicalAddress(a.Address)}
		if t, ok := ix.wlFrom[k]; !ok || a.ActiveFrom.After(t) {
			ix.wlFrom[k] = a.ActiveFrom.UTC() // the latest record wins: never earlier
		}
	}
	for k, t := range ix.wlFrom {
		ix.wlActs = append(ix.wlActs, WhitelistActivation{Whitelist: k[0], Address: k[1], ActiveFrom: t})
	}
	slices.SortFunc(ix.wlActs, func(a, b WhitelistActivation) int {
		return cmp.Or(cmp.Compare(a.Whitelist, b.Whitelist), cmp.Compare(a.Address, b.Address))
	})
	if len(problems) > 0 {
		return State{}, fmt.Errorf("index state: %w: %s", ErrInvalidState, strings.Join(problems, "; "))
	}
	return State{ix: ix}, nil
}

func indexApprovals(in []Approval) ([]Approval, error) {
	out := make([]Approval, 0, len(in))
	var problems []string
	for i, a := range in {
		if a.Officer == "" || a.Digest.IsZero() || a.At.IsZero() || (a.Verdict != VerdictApprove && a.Verdict != VerdictReject) {
			problems = append(problems, fmt.Sprintf("approvals[%d]: officer, verdict, digest and at are required", i))
			continue
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Approval) int {
		return cmp.Or(slices.Compare(a.Digest[:], b.Digest[:]), cmp.Compare(a.Officer, b.Officer),
			a.At.Compare(b.At), cmp.Compare(a.Verdict, b.Verdict))
	})
	if len(problems) > 0 {
		return out, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

func (ix *stateIndex) setApprovals(sorted []Approval) {
	ix.approvals = sorted
	ix.byDigest = map[Hash][]Approval{}
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j].Digest == sorted[i].Digest {
			j++
		}
		ix.byDigest[sorted[i].Digest] = sorted[i:j:j]
		i = j
	}
}

// WithApprovals returns a copy of s whose approvals are replaced by
// approvals; the spend index is shared, so this is cheap.
func (s State) WithApprovals(approvals []Approval) (State, error) {
	sorted, err := indexApprovals(approvals)
	if err != nil {
		return State{}, fmt.Errorf("index approvals: %w: %w", ErrInvalidState, err)
	}
	old := s.index()
	ix := *old
	ix.setApprovals(sorted)
	return State{ix: &ix}, nil
}

// WithFrozen returns a copy of s with the frozen flag set to frozen.
func (s State) WithFrozen(frozen bool) State {
	ix := *s.index()
	ix.frozen = frozen
	return State{ix: &ix}
}

// Frozen reports whether all signing is frozen.
func (s State) Frozen() bool { return s.index().frozen }

// Snapshot returns the state's content in canonical order.
func (s State) Snapshot() Snapshot {
	ix := s.index()
	return Snapshot{
		Frozen:               ix.frozen,
		Approvals:            slices.Clone(ix.approvals),
		Spends:               ix.spends.list(),
		WhitelistActivations: slices.Clone(ix.wlActs),
	}
}
