package policy

import (
	"math/big"
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/holiman/uint256"
)

// wide is an exact sum of amounts: 256 bits plus a carry word, so adding
// up to 2^64 amounts of at most 2^256-1 never overflows.
type wide struct {
	lo uint256.Int
	hi uint64
}

func (w *wide) add(x *wide) {
	var carry uint64
	_, overflow := w.lo.AddOverflow(&w.lo, &x.lo)
	if overflow {
		carry = 1
	}
	w.hi, _ = bits.Add64(w.hi, x.hi, carry)
}

// big returns w as a new big.Int.
func (w *wide) big() *big.Int {
	v := w.lo.ToBig()
	if w.hi != 0 {
		v.Add(v, new(big.Int).Lsh(new(big.Int).SetUint64(w.hi), 256))
	}
	return v
}

func wideOf(a Amount) wide {
	var w wide
	w.lo.SetFromBig(a.big()) // a parsed Amount is at most 2^256-1
	return w
}

// tnode is a treap node: spends of one scope key and asset ordered by
// (at, id), each subtree carrying its count and the exact sum of its
// amounts, so the total at or after any time is one walk from the root.
type tnode struct {
	at   time.Time
	id   string
	amt  wide
	sum  wide
	cnt  int
	prio uint64
	l, r *tnode
}

func (n *tnode) fix() {
	n.cnt, n.sum = 1, n.amt
	if n.l != nil {
		n.cnt += n.l.cnt
		n.sum.add(&n.l.sum)
	}
	if n.r != nil {
		n.cnt += n.r.cnt
		n.sum.add(&n.r.sum)
	}
}

// before orders nodes by time, then ID.
func before(at time.Time, id string, n *tnode) bool {
	if c := at.Compare(n.at); c != 0 {
		return c < 0
	}
	return id < n.id
}

// split cuts t into the nodes ordered before (at, id) and the rest.
func split(t *tnode, at time.Time, id string) (*tnode, *tnode) {
	if t == nil {
		return nil, nil
	}
	if before(t.at, t.id, &tnode{at: at, id: id}) {
		l, r := split(t.r, at, id)
		t.r = l
		t.fix()
		return t, r
	}
	l, r := split(t.l, at, id)
	t.l = r
	t.fix()
	return l, t
}

func merge(a, b *tnode) *tnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.r = merge(a.r, b)
		a.fix()
		return a
	default:
		b.l = merge(a, b.l)
		b.fix()
		return b
	}
}

func insert(t *tnode, at time.Time, id string, amt wide) *tnode {
	n := &tnode{at: at, id: id, amt: amt, prio: rand.Uint64()}
	n.fix()
	l, r := split(t, at, id)
	return merge(merge(l, n), r)
}

// erase removes the node (at, id) if present.
func erase(t *tnode, at time.Time, id string) *tnode {
	if t == nil {
		return nil
	}
	if t.at.Equal(at) && t.id == id {
		return merge(t.l, t.r)
	}
	if before(at, id, t) {
		t.l = erase(t.l, at, id)
	} else {
		t.r = erase(t.r, at, id)
	}
	t.fix()
	return t
}

// since adds to cnt and sum the nodes at or after from.
func (t *tnode) since(from time.Time, cnt *int, sum *wide) {
	for t != nil {
		if t.at.Before(from) {
			t = t.r
			continue
		}
		*cnt++
		sum.add(&t.amt)
		if t.r != nil {
			*cnt += t.r.cnt
			sum.add(&t.r.sum)
		}
		t = t.l
	}
}
