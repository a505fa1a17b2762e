package policy

import (
	"math/big"
	"math/bits"
	"slices"
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
	if _, overflow := w.lo.AddOverflow(&w.lo, &x.lo); overflow {
		carry = 1
	}
	w.hi, _ = bits.Add64(w.hi, x.hi, carry)
}

func (w *wide) sub(x *wide) {
	var borrow uint64
	if _, underflow := w.lo.SubOverflow(&w.lo, &x.lo); underflow {
		borrow = 1
	}
	w.hi, _ = bits.Sub64(w.hi, x.hi, borrow)
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

// bkey orders a tree's entries: by time, then transfer ID.
type bkey struct {
	sec  int64
	nsec int32
	id   string
}

func keyOf(t time.Time, id string) bkey {
	return bkey{sec: t.Unix(), nsec: int32(t.Nanosecond()), id: id}
}

func (a bkey) less(b bkey) bool {
	switch {
	case a.sec != b.sec:
		return a.sec < b.sec
	case a.nsec != b.nsec:
		return a.nsec < b.nsec
	}
	return a.id < b.id
}

// fanout bounds a node's entries or children: a million spends sit four
// levels deep, so a total reads a handful of contiguous nodes.
const fanout = 64

// bnode is a node of a B+tree of one scope key and asset's spends. A leaf
// holds entries sorted by key with their amounts; an inner node holds its
// children with a lower bound of each child's keys and each child's
// count and sum, so the total at or after any time is one descent.
type bnode struct {
	keys []bkey   // leaf: the entries; inner: a lower bound of each child's keys
	amts []wide   // leaf: the entries' amounts
	kids []*bnode // inner: the children
	cnts []int    // inner: each child's count
	sums []wide   // inner: each child's sum
}

func (n *bnode) leaf() bool { return n.kids == nil }

func (n *bnode) total() (int, wide) {
	var (
		c int
		s wide
	)
	if n.leaf() {
		for i := range n.amts {
			s.add(&n.amts[i])
		}
		return len(n.keys), s
	}
	for i := range n.kids {
		c += n.cnts[i]
		s.add(&n.sums[i])
	}
	return c, s
}

// route is the child of an inner node whose range holds k.
func (n *bnode) route(k bkey) int {
	i, _ := slices.BinarySearchFunc(n.keys, k, func(e, t bkey) int {
		if t.less(e) {
			return 1
		}
		return -1
	})
	return max(i-1, 0)
}

// tree is one scope key and asset's spends.
type tree struct{ root *bnode }

func (t *tree) empty() bool { return t.root == nil || len(t.root.keys) == 0 }

// insert adds the entry (k, amt); k must not be in the tree.
func (t *tree) insert(k bkey, amt wide) {
	if t.root == nil {
		t.root = &bnode{}
	}
	if right := insertInto(t.root, k, amt); right != nil {
		left := t.root
		lc, ls := left.total()
		rc, rs := right.total()
		t.root = &bnode{keys: []bkey{left.keys[0], right.keys[0]}, kids: []*bnode{left, right}, cnts: []int{lc, rc}, sums: []wide{ls, rs}}
	}
}

// insertInto adds the entry under n and returns n's new right sibling if
// n split.
func insertInto(n *bnode, k bkey, amt wide) *bnode {
	if n.leaf() {
		i, _ := slices.BinarySearchFunc(n.keys, k, func(e, t bkey) int {
			if e.less(t) {
				return -1
			}
			return 1
		})
		n.keys = slices.Insert(n.keys, i, k)
		n.amts = slices.Insert(n.amts, i, amt)
		if len(n.keys) <= fanout {
			return nil
		}
		h := len(n.keys) / 2
		right := &bnode{keys: slices.Clone(n.keys[h:]), amts: slices.Clone(n.amts[h:])}
		n.keys, n.amts = slices.Clip(n.keys[:h]), slices.Clip(n.amts[:h])
		return right
	}
	i := n.route(k)
	if k.less(n.keys[i]) {
		n.keys[i] = k // a new smallest key lowers the first child's bound
	}
	c := n.kids[i]
	right := insertInto(c, k, amt)
	if right == nil {
		n.cnts[i]++
		n.sums[i].add(&amt)
		return nil
	}
	n.cnts[i], n.sums[i] = c.total()
	rc, rs := right.total()
	n.keys = slices.Insert(n.keys, i+1, right.keys[0])
	n.kids = slices.Insert(n.kids, i+1, right)
	n.cnts = slices.Insert(n.cnts, i+1, rc)
	n.sums = slices.Insert(n.sums, i+1, rs)
	if len(n.kids) <= fanout {
		return nil
	}
	h := len(n.kids) / 2
	sib := &bnode{keys: slices.Clone(n.keys[h:]), kids: slices.Clone(n.kids[h:]), cnts: slices.Clone(n.cnts[h:]), sums: slices.Clone(n.sums[h:])}
	n.keys, n.kids, n.cnts, n.sums = slices.Clip(n.keys[:h]), slices.Clip(n.kids[:h]), slices.Clip(n.cnts[:h]), slices.Clip(n.sums[:h])
	return sib
}

// erase removes the entry k and reports whether it was there.
func (t *tree) erase(k bkey) bool {
	if t.root == nil {
		return false
	}
	_, ok := eraseFrom(t.root, k)
	for ok && !t.root.leaf() && len(t.root.kids) == 1 {
		t.root = t.root.kids[0]
	}
	return ok
}

// eraseFrom removes k under n and returns its amount. A node left empty is
// dropped by its parent; nodes are not merged (a lower bound stays valid).
func eraseFrom(n *bnode, k bkey) (wide, bool) {
	if n.leaf() {
		i, found := slices.BinarySearchFunc(n.keys, k, func(e, t bkey) int {
			switch {
			case e.less(t):
				return -1
			case t.less(e):
				return 1
			}
			return 0
		})
		if !found {
			return wide{}, false
		}
		amt := n.amts[i]
		n.keys, n.amts = slices.Delete(n.keys, i, i+1), slices.Delete(n.amts, i, i+1)
		return amt, true
	}
	i := n.route(k)
	amt, ok := eraseFrom(n.kids[i], k)
	if !ok {
		return wide{}, false
	}
	n.cnts[i]--
	n.sums[i].sub(&amt)
	if n.cnts[i] == 0 {
		n.keys, n.kids = slices.Delete(n.keys, i, i+1), slices.Delete(n.kids, i, i+1)
		n.cnts, n.sums = slices.Delete(n.cnts, i, i+1), slices.Delete(n.sums, i, i+1)
	}
	return amt, true
}

// since adds to cnt and sum the entries at or after from.
func (t *tree) since(from time.Time, cnt *int, sum *wide) {
	k := keyOf(from, "") // the smallest key at from
	for n := t.root; n != nil; {
		if n.leaf() {
			for i := len(n.keys) - 1; i >= 0 && !n.keys[i].less(k); i-- {
				*cnt++
				sum.add(&n.amts[i])
			}
			return
		}
		i := n.route(k)
		for j := i + 1; j < len(n.kids); j++ {
			*cnt += n.cnts[j]
			sum.add(&n.sums[j])
		}
		n = n.kids[i]
	}
}
