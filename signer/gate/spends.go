package gate

import (
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
)

// spendBook keeps the policy's limit totals as the ledger applies
// reservations and releases (a ledger.SpendWatcher feeding a policy.Book),
// so a decision reads O(rules × windows) tree nodes, never the history.
// It holds the spends of the longest window a policy asked about, plus
// retainSlack; older ones are pruned as the window slides and stay in the
// ledger, where a decision never reads them.
type spendBook struct {
	book  *policy.Book
	store *ledger.Store
	now   func() time.Time
	log   *slog.Logger

	mu     sync.Mutex
	retain time.Duration
	pruned time.Time
}

// retainSlack is kept beyond the longest window so a clock stepped back
// by up to this much still finds every spend a window covers.
const retainSlack = time.Hour

// pruneEvery spaces the pruning of spends that left every window.
const pruneEvery = time.Minute

func newSpendBook(store *ledger.Store, now func() time.Time, log *slog.Logger) *spendBook {
	return &spendBook{book: policy.NewBook(), store: store, now: now, log: log.With("component", "spends")}
}

// cover makes sure the book holds every spend inside window: a policy
// with a longer window than any before reloads the spends it needs from
// the ledger, once.
func (sb *spendBook) cover(window time.Duration) error {
	sb.mu.Lock()
	if window+retainSlack <= sb.retain {
		sb.mu.Unlock()
		return nil
	}
	sb.retain = window + retainSlack
	sb.mu.Unlock()
	return sb.store.WatchSpends(sb)
}

// SpendsSince implements ledger.SpendWatcher.
func (sb *spendBook) SpendsSince() time.Time {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.now().Add(-sb.retain)
}

// ResetSpends implements ledger.SpendWatcher. The ledger loaded the
// spends at or after what SpendsSince returned a moment ago; asking again
// gives a time no earlier, so the book never claims history it lacks.
func (sb *spendBook) ResetSpends(spends map[string]ledger.Spend, index uint64) error {
	in := make(map[string]policy.Spend, len(spends))
	for id, s := range spends {
		in[id] = sb.convert(id, s)
	}
	if err := sb.book.Reset(in, sb.SpendsSince(), index); err != nil {
		return err
	}
	sb.log.Info("limit totals loaded", "spends", len(in), "applied_index", index)
	return nil
}

// SpendAdded implements ledger.SpendWatcher.
func (sb *spendBook) SpendAdded(id string, s ledger.Spend) {
	if err := sb.book.Add(id, sb.convert(id, s)); err != nil {
		// the ledger refuses such a reservation; if one got there anyway,
		// no decision can be trusted to count it
		sb.log.Error("spend not counted: the book refuses it", "transfer", id, "err", err)
	}
}

// SpendRemoved implements ledger.SpendWatcher.
func (sb *spendBook) SpendRemoved(id string) { sb.book.Remove(id) }

// Applied implements ledger.SpendWatcher: it records the index and, now
// and then, prunes spends that left every window.
func (sb *spendBook) Applied(index uint64) {
	sb.book.SetIndex(index)
	sb.mu.Lock()
	now := sb.now()
	due := now.Sub(sb.pruned) >= pruneEvery
	if due {
		sb.pruned = now
	}
	cutoff := now.Add(-sb.retain)
	sb.mu.Unlock()
	if due {
		sb.book.Prune(cutoff)
	}
}

// convert turns a ledger spend into the policy's. An amount or fee the
// policy cannot read counts as the largest there is: it can only tighten a
// limit or a fee budget. No fee (a spend recorded before fees were) is 0.
func (sb *spendBook) convert(id string, s ledger.Spend) policy.Spend {
	amt, err := policy.ParseAmount(s.Amount)
	if err != nil {
		sb.log.Error("spend amount unreadable, counted as the maximum", "transfer", id, "err", err)
		amt = maxAmount()
	}
	var fee policy.Amount
	if s.Fee != "" {
		if fee, err = policy.ParseAmount(s.Fee); err != nil {
			sb.log.Error("spend fee unreadable, counted as the maximum", "transfer", id, "err", err)
			fee = maxAmount()
		}
	}
	return policy.Spend{At: s.At, Source: s.Source, To: s.To, Rule: s.Rule, Asset: s.Asset, Amount: amt, Fee: fee}
}

// maxAmount is 2^256-1, the largest amount the policy reads.
func maxAmount() policy.Amount {
	a, _ := policy.AmountFromBig(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))
	return a
}
