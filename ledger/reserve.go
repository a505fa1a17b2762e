package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// reserve takes a ready (or failed, for a retry) transfer into signing for
// one session: it pins the transfer's outpoints or nonce in the reservation
// index and records its spend for limit windows. Anything pinned by another
// transfer — still signing, or signed and so consumed forever — is a
// conflict, and so is a second session while one is live. The same session
// reserving the same things again changes nothing.
func (l *ledgerTx) reserve(cmd Command) (Transfer, bool, error) {
	t, err := l.mustTransfer(cmd.ID)
	if err != nil {
		return Transfer{}, false, err
	}
	r := *cmd.Reservation
	resumes := r.Resumes
	r.Holders, r.Resumes = nil, nil
	switch {
	case t.State == StateSigning && t.Reservation == nil:
		return Transfer{}, false, fmt.Errorf("%w: transfer %s is signing without a reservation", ErrCorrupt, t.ID)
	case t.State == StateSigning && sameHolds(t.Reservation, &r) && t.Reservation.Silent:
		return Transfer{}, false, fmt.Errorf("%w: session %x failed; only a resumption moves the reservation on", ErrConflict, r.Session)
	case t.State == StateSigning && sameHolds(t.Reservation, &r):
		// another signer of the same session joins the reservation
		if slices.Contains(t.Reservation.Holders, cmd.Node) || len(t.Reservation.Holders) == 0 {
			return t, false, nil
		}
		if err := l.limitsUnchanged(t.ID, r.BasedOn); err != nil {
			return Transfer{}, false, err
		}
		if err := l.pinInputs(t.ID, r.Inputs); err != nil {
			return Transfer{}, false, err
		}
		held := *t.Reservation
		held.Holders = insertSorted(held.Holders, cmd.Node)
		t.Reservation, t.UpdatedAt = &held, cmd.At
		return t, true, nil
	case t.State == StateSigning && len(resumes) > 0 && bytes.Equal(resumes, t.Reservation.Session):
		return l.resume(cmd, t, r)
	case t.State == StateSigning:
		return Transfer{}, false, fmt.Errorf("%w: transfer is already reserved by session %x", ErrConflict, t.Reservation.Session)
	case t.State.Final():
		return Transfer{}, false, fmt.Errorf("%w: %s", ErrFinal, t.State)
	case t.State != StateReady && t.State != StateFailed:
		return Transfer{}, false, &TransitionError{From: t.State, To: StateSigning}
	case !cmd.At.Before(t.ExpiresAt):
		return Transfer{}, false, fmt.Errorf("%w: at %s", ErrExpired, t.ExpiresAt.Format(timeFormat))
	case cmd.At.Before(t.NotBefore):
		return Transfer{}, false, fmt.Errorf("%w: until %s", ErrTimelocked, t.NotBefore.Format(timeFormat))
	case t.Chain == "btc" && (len(r.Outpoints) == 0 || r.NonceKey != ""):
		return Transfer{}, false, invalid("a btc reservation pins outpoints and no nonce")
	case t.Chain == "eth" && (r.NonceKey == "" || len(r.Outpoints) != 0):
		return Transfer{}, false, invalid("an eth reservation pins a nonce and no outpoints")
	case r.Spend.Source != t.Source || r.Spend.To != t.To || r.Spend.Asset != t.Asset || r.Spend.Amount != t.Amount:
		return Transfer{}, false, invalid("spend does not match the transfer's source, destination, asset and amount")
	}
	if err := l.limitsUnchanged(t.ID, r.BasedOn); err != nil {
		return Transfer{}, false, err
	}
	for _, k := range holdKeys(&r) {
		holder := l.reservations.Get(k)
		if holder == nil || string(holder) == t.ID {
			continue
		}
		how := "reserved"
		if h, ok, _ := l.transfer(string(holder)); ok && h.State != StateSigning {
			how = "consumed"
		}
		return Transfer{}, false, fmt.Errorf("%w: %s is %s by transfer %s", ErrConflict, k[2:], how, holder)
	}
	if err := l.pinInputs(t.ID, r.Inputs); err != nil {
		return Transfer{}, false, err
	}
	for _, k := range holdKeys(&r) {
		if err := l.reservations.Put(k, []byte(t.ID)); err != nil {
			return Transfer{}, false, fmt.Errorf("index reservation: %w", err)
		}
	}
	spend, err := json.Marshal(r.Spend)
	if err != nil {
		return Transfer{}, false, fmt.Errorf("encode spend: %w", err)
	}
	if err := l.spends.Put(spendKey(r.Spend.At, t.ID), spend); err != nil {
		return Transfer{}, false, fmt.Errorf("index spend: %w", err)
	}
	sp := r.Spend
	l.deltas = append(l.deltas, spendDelta{id: t.ID, spend: &sp})
	if err := l.spendChanged(t.ID); err != nil {
		return Transfer{}, false, err
	}
	r.Holders = []string{cmd.Node}
	t.State, t.Reservation, t.Attempts, t.UpdatedAt = StateSigning, &r, t.Attempts+1, cmd.At
	return t, true, nil
}

// resume hands a live reservation to a new session over the same
// transaction: the old session went silent, and whether it produced a
// signature is not known. Nothing is freed: the same outpoints or nonce
// stay pinned and the spend keeps counting (unchanged, so the limits need
// no new check), and a result of the old session still completes the
// transfer. The proposer is the new session's first holder.
func (l *ledgerTx) resume(cmd Command, t Transfer, r Reservation) (Transfer, bool, error) {
	old := t.Reservation
	switch {
	case !samePins(old, &r):
		return Transfer{}, false, fmt.Errorf("%w: a resumption must pin what session %x pinned", ErrConflict, old.Session)
	case r.Spend.Source != old.Spend.Source || r.Spend.To != old.Spend.To || r.Spend.Asset != old.Spend.Asset || r.Spend.Amount != old.Spend.Amount:
		return Transfer{}, false, invalid("a resumption must spend what session %x spent", old.Session)
	case len(old.Superseded) >= MaxResumptions:
		return Transfer{}, false, fmt.Errorf("%w: transfer was resumed %d times already", ErrConflict, len(old.Superseded))
	case l.superseded(old, r.Session) >= 0:
		return Transfer{}, false, fmt.Errorf("%w: session %x was superseded", ErrConflict, r.Session)
	}
	next := Reservation{Session: r.Session, At: r.At, Outpoints: old.Outpoints, Inputs: old.Inputs, NonceKey: old.NonceKey, Spend: old.Spend,
		Holders: []string{cmd.Node}, BasedOn: r.BasedOn, PossiblySigned: old.PossiblySigned,
		Superseded: append(slices.Clone(old.Superseded), Superseded{Session: old.Session, Holders: old.Holders, Failed: old.Silent})}
	t.Reservation, t.Attempts, t.UpdatedAt = &next, t.Attempts+1, cmd.At
	return t, true, nil
}

// superseded returns the index of session among r's superseded ones, or -1.
func (l *ledgerTx) superseded(r *Reservation, session []byte) int {
	return slices.IndexFunc(r.Superseded, func(s Superseded) bool { return bytes.Equal(s.Session, session) })
}

// release ends a failed session for the proposing node: only a holder of
// the session's reservation may release its own hold. While another holder
// keeps it, the reservation stands and its spend counts; when the last
// hold goes, its outpoints or nonce become free, its spend stops counting,
// and the transfer is failed (retryable) with the reason — unless a
// signature may exist: a holder sent its last-round share (possibly
// signed), or a session taken over may have signed. Then nothing is
// freed and the reservation waits, silent, for a resumption over the same
// bytes.
func (l *ledgerTx) release(cmd Command) (Transfer, bool, error) {
	t, err := l.mustTransfer(cmd.ID)
	if err != nil {
		return Transfer{}, false, err
	}
	if err := ownReservation(t, cmd.Reservation.Session); err != nil {
		return Transfer{}, false, err
	}
	if t.Reservation.Silent {
		return Transfer{}, false, fmt.Errorf("%w: no session holds the reservation any more; only a resumption moves it on", ErrConflict)
	}
	held := *t.Reservation
	held.PossiblySigned = held.PossiblySigned || cmd.Reservation.PossiblySigned
	if hs := t.Reservation.Holders; len(hs) > 0 {
		if !slices.Contains(hs, cmd.Node) {
			return Transfer{}, false, fmt.Errorf("%w: %s holds no part of the reservation", ErrConflict, cmd.Node)
		}
		held.Holders = slices.DeleteFunc(slices.Clone(hs), func(n string) bool { return n == cmd.Node })
		if len(held.Holders) > 0 {
			t.Reservation, t.UpdatedAt = &held, cmd.At
			return t, true, nil
		}
	}
	if len(held.Superseded) > 0 || held.PossiblySigned {
		// A signature may exist (withheld by whoever gathered the last
		// round, or made by a session taken over): nothing is freed, the
		// spend keeps counting, and the home node resumes over the same
		// transaction bytes.
		held.Holders, held.Silent = nil, true
		t.Reservation, t.Reason, t.UpdatedAt = &held, cmd.Reason, cmd.At
		return t, true, nil
	}
	for _, k := range holdKeys(t.Reservation) {
		if holder := l.reservations.Get(k); string(holder) != t.ID {
			return Transfer{}, false, fmt.Errorf("%w: %s is indexed to %q, not %s", ErrCorrupt, k, holder, t.ID)
		}
		if err := l.reservations.Delete(k); err != nil {
			return Transfer{}, false, fmt.Errorf("unindex reservation: %w", err)
		}
	}
	if err := l.spends.Delete(spendKey(t.Reservation.Spend.At, t.ID)); err != nil {
		return Transfer{}, false, fmt.Errorf("unindex spend: %w", err)
	}
	l.deltas = append(l.deltas, spendDelta{id: t.ID})
	if err := l.spendChanged(t.ID); err != nil {
		return Transfer{}, false, err
	}
	t.State, t.Reason, t.Reservation, t.UpdatedAt = StateFailed, cmd.Reason, nil, cmd.At
	return t, true, nil
}

func insertSorted(xs []string, x string) []string {
	out := append(slices.Clone(xs), x)
	slices.Sort(out)
	return out
}

// ownReservation checks that t is signing under session.
func ownReservation(t Transfer, session []byte) error {
	switch {
	case t.State.Final():
		return fmt.Errorf("%w: %s", ErrFinal, t.State)
	case t.State != StateSigning || t.Reservation == nil:
		return fmt.Errorf("%w: transfer is %s, with no live reservation", ErrConflict, t.State)
	case !bytes.Equal(t.Reservation.Session, session):
		return fmt.Errorf("%w: the reservation belongs to session %x, not %x", ErrConflict, t.Reservation.Session, session)
	}
	return nil
}
