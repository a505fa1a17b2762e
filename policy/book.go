package policy

import (
	"cmp"
	"container/heap"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"
)

// Book is the spend side of the policy state kept incrementally: spends
// are added and removed one at a time as the ledger records and releases
// them, and pruned once older than every window a policy can ask about.
// A limit total is a walk of O(log n) nodes in one tree per scope key
// and asset, so a decision costs the same at 10 recorded spends and at
// 1,000,000; a fee total likewise in one tree per source wallet. It is
// safe for concurrent use.
//
// A book knows its horizon: the time from which it holds every spend
// (what Reset was given, raised by Prune). A window that starts earlier
// cannot be totalled, and the decision denies rather than undercount.
type Book struct {
	mu      sync.RWMutex
	byID    map[string]Spend
	scopes  [3]map[string]map[string]*tree // scope → key → asset → tree
	fees    map[string]*tree               // source → fees of its spends
	exp     expiry
	index   uint64
	horizon time.Time
}

// Scope positions in Book.scopes.
const (
	bookRule = iota
	bookSource
	bookDest
)

// NewBook returns an empty book at index 0.
func NewBook() *Book {
	b := &Book{byID: map[string]Spend{}, fees: map[string]*tree{}}
	for i := range b.scopes {
		b.scopes[i] = map[string]map[string]*tree{}
	}
	return b
}

// Add records the spend of transfer id, replacing an earlier one of the
// same id. It refuses a spend without a time, source, destination or asset.
func (b *Book) Add(id string, s Spend) error {
	if id == "" || s.At.IsZero() || s.Source == "" || s.To == "" || s.Asset == "" {
		return fmt.Errorf("add spend %q: id, at, source, to and asset are required: %w", id, ErrInvalidState)
	}
	s.At, s.To = s.At.UTC(), canonicalAddress(s.To)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.remove(id)
	b.byID[id] = s
	amt := wideOf(s.Amount)
	for scope, key := range spendKeys(s) {
		m := b.scopes[scope][key]
		if m == nil {
			m = map[string]*tree{}
			b.scopes[scope][key] = m
		}
		t := m[s.Asset]
		if t == nil {
			t = &tree{}
			m[s.Asset] = t
		}
		t.insert(keyOf(s.At, id), amt)
	}
	if !s.Fee.IsZero() {
		t := b.fees[s.Source]
		if t == nil {
			t = &tree{}
			b.fees[s.Source] = t
		}
		t.insert(keyOf(s.At, id), wideOf(s.Fee))
	}
	heap.Push(&b.exp, expiring{at: s.At, id: id})
	return nil
}

// spendKeys yields the scope keys s counts under.
func spendKeys(s Spend) func(func(int, string) bool) {
	return func(yield func(int, string) bool) {
		if s.Rule != "" && !yield(bookRule, s.Rule) {
			return
		}
		if !yield(bookSource, s.Source) {
			return
		}
		yield(bookDest, s.To)
	}
}

// Remove forgets the spend of transfer id (a released reservation); it
// reports whether there was one.
func (b *Book) Remove(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remove(id)
}

func (b *Book) remove(id string) bool {
	s, ok := b.byID[id]
	if !ok {
		return false
	}
	delete(b.byID, id)
	for scope, key := range spendKeys(s) {
		m := b.scopes[scope][key]
		t := m[s.Asset]
		if t == nil {
			continue
		}
		t.erase(keyOf(s.At, id))
		if t.empty() {
			if delete(m, s.Asset); len(m) == 0 {
				delete(b.scopes[scope], key)
			}
		}
	}
	if t := b.fees[s.Source]; t != nil && !s.Fee.IsZero() {
		if t.erase(keyOf(s.At, id)); t.empty() {
			delete(b.fees, s.Source)
		}
	}
	return true
}

// Prune forgets every spend older than cutoff (a window no decision asks
// about any more) and returns how many went. The horizon moves up to
// cutoff: a window starting before it is no longer whole.
func (b *Book) Prune(cutoff time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cutoff.After(b.horizon) {
		b.horizon = cutoff
	}
	n := 0
	for len(b.exp) > 0 && b.exp[0].at.Before(cutoff) {
		e := heap.Pop(&b.exp).(expiring)
		if s, ok := b.byID[e.id]; ok && s.At.Equal(e.at) && b.remove(e.id) {
			n++
		}
	}
	return n
}

// Len is the number of spends in the book.
func (b *Book) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.byID)
}

// SetIndex records the ledger position the book reflects.
func (b *Book) SetIndex(i uint64) {
	b.mu.Lock()
	b.index = i
	b.mu.Unlock()
}

// Reset replaces the book's content with spends (by transfer ID) at index:
// every spend at or after since (zero: every spend there is).
func (b *Book) Reset(spends map[string]Spend, since time.Time, index uint64) error {
	fresh := NewBook()
	for id, s := range spends {
		if err := fresh.Add(id, s); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byID, b.scopes, b.fees, b.exp, b.index, b.horizon = fresh.byID, fresh.scopes, fresh.fees, fresh.exp, index, since.UTC()
	return nil
}

// Read calls fn with the book held still: no spend changes while fn runs.
// The view and every State made from it are valid only inside fn.
func (b *Book) Read(fn func(v BookView)) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	fn(BookView{b: b})
}

// BookView is a Book held still by Read.
type BookView struct{ b *Book }

// Index is the ledger position the view reflects.
func (v BookView) Index() uint64 { return v.b.index }

// WithBook returns a copy of s whose spends are the view's, less the
// spend of transfer except (a decision about a transfer counts the others'
// spends, not its own). Use it only inside the Read that gave v.
func (s State) WithBook(v BookView, except string) State {
	ix := *s.index()
	ix.spends = bookSpends{b: v.b, except: except}
	return State{ix: &ix}
}

// bookSpends is a Book as the evaluator's spend source.
type bookSpends struct {
	b      *Book
	except string
}

func (bs bookSpends) addWindow(w *window, scope Scope, key, asset string, since time.Time) {
	i := bookRule
	switch scope {
	case ScopeSource:
		i = bookSource
	case ScopeDestination:
		i = bookDest
	}
	m := bs.b.scopes[i][key]
	var sum wide
	for a, t := range m {
		var cnt int
		if a == asset {
			t.since(since, &cnt, &sum)
		} else {
			var ignored wide
			t.since(since, &cnt, &ignored)
		}
		w.count += cnt
	}
	w.sum.Add(w.sum, sum.big())
	if s, ok := bs.b.byID[bs.except]; ok && bs.except != "" && !s.At.Before(since) {
		for sc, k := range spendKeys(s) {
			if sc == i && k == key {
				w.count--
				if s.Asset == asset {
					w.sum.Sub(w.sum, s.Amount.big())
				}
			}
		}
	}
}

func (bs bookSpends) addFees(sum *big.Int, source string, since time.Time) {
	t := bs.b.fees[source]
	if t == nil {
		return
	}
	var (
		cnt int
		w   wide
	)
	t.since(since, &cnt, &w)
	sum.Add(sum, w.big())
	if s, ok := bs.b.byID[bs.except]; ok && bs.except != "" && s.Source == source && !s.At.Before(since) {
		sum.Sub(sum, s.Fee.big())
	}
}

func (bs bookSpends) horizon() time.Time { return bs.b.horizon }

func (bs bookSpends) list() []Spend {
	out := make([]Spend, 0, len(bs.b.byID))
	for id, s := range bs.b.byID {
		if id != bs.except {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, compareSpends)
	return out
}

// expiring is a spend's place in the prune order.
type expiring struct {
	at time.Time
	id string
}

// expiry is a min-heap of spends by time; entries of removed or replaced
// spends are skipped when they come up.
type expiry []expiring

func (e expiry) Len() int { return len(e) }
func (e expiry) Less(i, j int) bool {
	return cmp.Or(e[i].at.Compare(e[j].at), cmp.Compare(e[i].id, e[j].id)) < 0
}
func (e expiry) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *expiry) Push(x any)   { *e = append(*e, x.(expiring)) }
func (e *expiry) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}
