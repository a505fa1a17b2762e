package ledger

import "fmt"

// approve records one officer verdict. The ledger does not judge verdicts:
// it keeps every distinct (officer, verdict) pair in arrival order and the
// policy engine decides what they mean. A repeated pair changes nothing.
func (l *ledgerTx) approve(cmd Command) (Transfer, bool, error) {
	t, err := l.mustTransfer(cmd.ID)
	if err != nil {
		return Transfer{}, false, err
	}
	if t.State.Final() {
		return Transfer{}, false, fmt.Errorf("%w: %s", ErrFinal, t.State)
	}
	a := *cmd.Approval
	for _, have := range t.Approvals {
		if have.Officer == a.Officer && have.Verdict == a.Verdict {
			return t, false, nil
		}
	}
	if len(t.Approvals) >= maxApprovals {
		return Transfer{}, false, invalid("transfer already holds %d approvals", maxApprovals)
	}
	t.Approvals = append(t.Approvals, a)
	t.UpdatedAt = cmd.At
	return t, true, nil
}
