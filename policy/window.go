package policy

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"
)

// spendIndex holds past spends sorted by time per scope key (rule ID,
// source wallet, destination address), with per-asset prefix sums, so a
// sliding-window total is two binary searches and one subtraction. Fees
// have their own prefix sums per source wallet.
type spendIndex struct {
	all      []Spend // canonical order
	byRule   map[string]*series
	bySource map[string]*series
	byDest   map[string]*series
	fees     map[string]*amountSeries // by source wallet; spends with a fee
}

// series is one scope key's spends: times of all assets (for counts) and
// per-asset amounts.
type series struct {
	times  []time.Time
	assets map[string]*amountSeries
}

type amountSeries struct {
	times  []time.Time
	prefix []*big.Int // prefix[i] = sum of the first i amounts
}

func newSpendIndex(in []Spend) (*spendIndex, error) {
	var problems []string
	all := make([]Spend, 0, len(in))
	for i, s := range in {
		if s.At.IsZero() || s.Source == "" || s.To == "" || s.Asset == "" {
			problems = append(problems, fmt.Sprintf("spends[%d]: at, source, to and asset are required", i))
			continue
		}
		s.At = s.At.UTC()
		s.To = canonicalAddress(s.To)
		all = append(all, s)
	}
	slices.SortFunc(all, compareSpends)
	ix := &spendIndex{all: all, byRule: map[string]*series{}, bySource: map[string]*series{}, byDest: map[string]*series{},
		fees: map[string]*amountSeries{}}
	for _, s := range all {
		if s.Rule != "" {
			addSpend(ix.byRule, s.Rule, s)
		}
		addSpend(ix.bySource, s.Source, s)
		addSpend(ix.byDest, s.To, s)
		if !s.Fee.IsZero() {
			as := ix.fees[s.Source]
			if as == nil {
				as = &amountSeries{prefix: []*big.Int{new(big.Int)}}
				ix.fees[s.Source] = as
			}
			as.append(s.At, s.Fee)
		}
	}
	if len(problems) > 0 {
		return ix, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return ix, nil
}

// compareSpends is the canonical order of spends.
func compareSpends(a, b Spend) int {
	return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Source, b.Source), cmp.Compare(a.To, b.To),
		cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Asset, b.Asset), a.Amount.Cmp(b.Amount), a.Fee.Cmp(b.Fee))
}

// spendSource is where an evaluation reads its spends: a spendIndex built
// from a snapshot, or a Book kept incrementally.
type spendSource interface {
	// addWindow adds to w the count (all assets) and the sum (of asset)
	// of the spends in scope under key at or after since.
	addWindow(w *window, scope Scope, key, asset string, since time.Time)
	// addFees adds to sum the fees of the spends from source (any asset,
	// any rule) at or after since.
	addFees(sum *big.Int, source string, since time.Time)
	// horizon is the time from which the source holds every spend; a
	// window starting earlier cannot be totalled. Zero: every spend.
	horizon() time.Time
	// list returns the spends in canonical order.
	list() []Spend
}

func (ix *spendIndex) addWindow(w *window, scope Scope, key, asset string, since time.Time) {
	switch scope {
	case ScopeRule:
		w.add(ix.byRule[key], asset, since)
	case ScopeSource:
		w.add(ix.bySource[key], asset, since)
	case ScopeDestination:
		w.add(ix.byDest[key], asset, since)
	}
}

func (ix *spendIndex) addFees(sum *big.Int, source string, since time.Time) {
	if as := ix.fees[source]; as != nil {
		i := firstAtOrAfter(as.times, since)
		sum.Add(sum, as.prefix[len(as.times)])
		sum.Sub(sum, as.prefix[i])
	}
}

// horizon: a snapshot is the whole state by contract.
func (ix *spendIndex) horizon() time.Time { return time.Time{} }

func (ix *spendIndex) list() []Spend { return slices.Clone(ix.all) }

func addSpend(m map[string]*series, key string, s Spend) {
	se := m[key]
	if se == nil {
		se = &series{assets: map[string]*amountSeries{}}
		m[key] = se
	}
	se.times = append(se.times, s.At)
	as := se.assets[s.Asset]
	if as == nil {
		as = &amountSeries{prefix: []*big.Int{new(big.Int)}}
		se.assets[s.Asset] = as
	}
	as.append(s.At, s.Amount)
}

func (as *amountSeries) append(at time.Time, a Amount) {
	as.times = append(as.times, at)
	as.prefix = append(as.prefix, new(big.Int).Add(as.prefix[len(as.prefix)-1], a.big()))
}

// firstAtOrAfter returns the index of the first time not before since.
func firstAtOrAfter(times []time.Time, since time.Time) int {
	return sort.Search(len(times), func(i int) bool { return !times[i].Before(since) })
}

// window totals spends at or after since (later ones too: a spend stamped
// ahead of this node's clock still counts).
type window struct {
	count int
	sum   *big.Int
}

func (w *window) add(s *series, asset string, since time.Time) {
	if s == nil {
		return
	}
	w.count += len(s.times) - firstAtOrAfter(s.times, since)
	if as := s.assets[asset]; as != nil {
		i := firstAtOrAfter(as.times, since)
		w.sum.Add(w.sum, as.prefix[len(as.times)])
		w.sum.Sub(w.sum, as.prefix[i])
	}
}
