package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Version is an accepted policy version.
type Version struct {
	Policy *Policy
	// Change classifies it against the version active when it was
	// submitted; a loosening waits that version's loosen_delay.
	Change      Change
	SubmittedAt time.Time
	EffectiveAt time.Time
	Signers     []string // admins whose signatures counted, sorted
}

// History is the hash-chained sequence of accepted versions and the freeze
// flag: the governance state machine. It is pure (times are inputs) and
// every method either succeeds or changes nothing. Not safe for concurrent
// use.
type History struct {
	versions []Version
	seen     map[Hash]bool
	frozen   bool
	epoch    uint64
}

// NewHistory starts a history at genesis, a first version (no parent)
// signed by a quorum of its own admins at at.
func NewHistory(genesis *Policy, sigs []PolicySignature, at time.Time) (*History, error) {
	if genesis == nil {
		return nil, fmt.Errorf("start policy history: %w", ErrNoPolicy)
	}
	if !genesis.parent.IsZero() {
		return nil, fmt.Errorf("start policy history: genesis names a parent: %w", ErrParentMismatch)
	}
	signers, err := genesis.quorum(genesis.hash, sigs)
	if err != nil {
		return nil, fmt.Errorf("start policy history: %w", err)
	}
	at = at.UTC()
	v := Version{Policy: genesis, SubmittedAt: at, EffectiveAt: at, Signers: signers}
	return &History{versions: []Version{v}, seen: map[Hash]bool{genesis.hash: true}}, nil
}

// quorum counts distinct admins of p with a valid signature over h and
// fails if fewer than p's quorum signed.
func (p *Policy) quorum(h Hash, sigs []PolicySignature) ([]string, error) {
	var signers, ignored []string
	for _, s := range sigs {
		switch {
		case s.PolicyHash != h:
			ignored = append(ignored, fmt.Sprintf("%s: signs another hash", s.Admin))
		case slices.Contains(signers, s.Admin):
		default:
			if err := p.verifyAdmin(s.Admin, PolicyMessage(h), s.Signature); err != nil {
				ignored = append(ignored, err.Error())
				continue
			}
			signers = append(signers, s.Admin)
		}
	}
	slices.Sort(signers)
	if len(signers) < p.doc.Admins.Quorum {
		msg := fmt.Sprintf("%d of %d admins signed %s", len(signers), p.doc.Admins.Quorum, h.Short())
		if len(ignored) > 0 {
			slices.Sort(ignored)
			msg += " (ignored: " + strings.Join(ignored, "; ") + ")"
		}
		return nil, fmt.Errorf("%s: %w", msg, ErrQuorumNotMet)
	}
	return signers, nil
}

// Submit accepts p as the next version at time at. It must name the
// current head's hash as parent, carry a higher version number and never
// have been seen (rollback is refused), and be signed by a quorum of the
// admins of the version active at at. A tightening change takes effect at
// at; a loosening one at at + the active version's loosen_delay.
func (h *History) Submit(p *Policy, sigs []PolicySignature, at time.Time) (Version, error) {
	if p == nil {
		return Version{}, fmt.Errorf("submit policy: %w", ErrNoPolicy)
	}
	at = at.UTC()
	head := h.versions[len(h.versions)-1]
	name := fmt.Sprintf("submit policy version %d %s", p.doc.Version, p.hash.Short())
	switch {
	case h.seen[p.hash]:
		return Version{}, fmt.Errorf("%s: already in the history: %w", name, ErrRollback)
	case p.doc.Version <= head.Policy.doc.Version:
		return Version{}, fmt.Errorf("%s: not above head version %d: %w", name, head.Policy.doc.Version, ErrRollback)
	case p.parent != head.Policy.hash:
		return Version{}, fmt.Errorf("%s: parent %s, head %s: %w", name, p.parent.Short(), head.Policy.hash.Short(), ErrParentMismatch)
	case at.Before(head.SubmittedAt):
		return Version{}, fmt.Errorf("%s: at %s is before the head's submission: %w", name, at.Format(time.RFC3339), ErrInvalid)
	}
	active := h.ActiveVersion(at)
	signers, err := active.Policy.quorum(p.hash, sigs)
	if err != nil {
		return Version{}, fmt.Errorf("%s: %w", name, err)
	}
	change := Classify(active.Policy, p)
	v := Version{Policy: p, Change: change, SubmittedAt: at, EffectiveAt: at, Signers: signers}
	if change.Kind == Loosening {
		v.EffectiveAt = at.Add(active.Policy.LoosenDelay())
	}
	h.versions = append(h.versions, v)
	h.seen[p.hash] = true
	return v, nil
}

// ActiveVersion returns the version in force at now: the highest version
// whose EffectiveAt is not after now (the genesis before its own time).
func (h *History) ActiveVersion(now time.Time) Version {
	for i := len(h.versions) - 1; i > 0; i-- {
		if !h.versions[i].EffectiveAt.After(now) {
			return h.versions[i]
		}
	}
	return h.versions[0]
}

// Active returns the policy in force at now.
func (h *History) Active(now time.Time) *Policy { return h.ActiveVersion(now).Policy }

// Head returns the latest accepted version (possibly not yet effective).
func (h *History) Head() Version { return h.versions[len(h.versions)-1] }

// Versions returns the accepted versions, oldest first.
func (h *History) Versions() []Version { return slices.Clone(h.versions) }

// Frozen reports whether all signing is frozen; pass it to State.
func (h *History) Frozen() bool { return h.frozen }

// FreezeEpoch is the number of freezes so far: freeze and unfreeze
// messages are signed over it.
func (h *History) FreezeEpoch() uint64 { return h.epoch }

// Freeze stops all signing on the signature of any single admin of the
// version active at at, over FreezeMessage(FreezeEpoch()). Freezing a
// frozen history changes nothing.
func (h *History) Freeze(sig AdminSignature, at time.Time) error {
	if err := h.ActiveVersion(at.UTC()).Policy.verifyAdmin(sig.Admin, FreezeMessage(h.epoch), sig.Signature); err != nil {
		return fmt.Errorf("freeze signing: %w", err)
	}
	if !h.frozen {
		h.frozen = true
		h.epoch++
	}
	return nil
}

// Unfreeze lifts the freeze when a quorum of the active version's admins
// signed UnfreezeMessage(FreezeEpoch()).
func (h *History) Unfreeze(sigs []AdminSignature, at time.Time) error {
	if !h.frozen {
		return fmt.Errorf("unfreeze signing: %w", ErrNotFrozen)
	}
	p := h.ActiveVersion(at.UTC()).Policy
	var signers []string
	var errs []error
	for _, s := range sigs {
		if slices.Contains(signers, s.Admin) {
			continue
		}
		if err := p.verifyAdmin(s.Admin, UnfreezeMessage(h.epoch), s.Signature); err != nil {
			errs = append(errs, err)
			continue
		}
		signers = append(signers, s.Admin)
	}
	if len(signers) < p.doc.Admins.Quorum {
		errs = append([]error{fmt.Errorf("%d of %d admins signed: %w", len(signers), p.doc.Admins.Quorum, ErrQuorumNotMet)}, errs...)
		return fmt.Errorf("unfreeze signing: %w", errors.Join(errs...))
	}
	h.frozen = false
	return nil
}
