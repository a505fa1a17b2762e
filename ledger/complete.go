package ledger

import (
	"bytes"
	"fmt"
	"slices"
)

// complete stores the signed transaction of the session holding the
// reservation and makes the transfer signed. Its outpoints or nonce stay in
// the reservation index for ever (consumed) and its spend keeps counting.
// A transfer is signed at most once: the same session and transaction again
// change nothing, anything else is a conflict.
func (l *ledgerTx) complete(cmd Command) (Transfer, bool, error) {
	t, err := l.mustTransfer(cmd.ID)
	if err != nil {
		return Transfer{}, false, err
	}
	res := *cmd.Result
	if t.State == StateSigned {
		if t.Result != nil && bytes.Equal(t.Result.Session, res.Session) && bytes.Equal(t.Result.SignedTx, res.SignedTx) {
			return t, false, nil
		}
		return Transfer{}, false, fmt.Errorf("%w: transfer is already signed", ErrConflict)
	}
	holders := []string(nil)
	if t.State == StateSigning && t.Reservation != nil {
		holders = t.Reservation.Holders
		if i := l.superseded(t.Reservation, res.Session); i >= 0 {
			// a session taken over signed the same transaction after all
			sup := t.Reservation.Superseded[i]
			if sup.Failed {
				return Transfer{}, false, fmt.Errorf("%w: every holder of session %x said it failed", ErrConflict, res.Session)
			}
			holders = sup.Holders
		} else if err := ownReservation(t, res.Session); err != nil {
			return Transfer{}, false, err
		} else if t.Reservation.Silent {
			// its holders all released it: nobody holds it to sign with
			return Transfer{}, false, fmt.Errorf("%w: every holder of session %x said it failed", ErrConflict, res.Session)
		}
	} else if err := ownReservation(t, res.Session); err != nil {
		return Transfer{}, false, err
	}
	if len(holders) > 0 && !slices.Contains(holders, cmd.Node) {
		return Transfer{}, false, fmt.Errorf("%w: %s holds no part of the session's reservation", ErrConflict, cmd.Node)
	}
	t.State, t.Result, t.UpdatedAt = StateSigned, &res, cmd.At
	return t, true, nil
}
