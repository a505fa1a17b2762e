package policy

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// The B+tree's totals match a brute-force sum through thousands of
// inserts and erases (splits at every level, emptied nodes dropped, many
// entries at one time), at every query time.
func TestTreeMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tr tree
	live := map[bkey]uint64{}
	var keys []bkey
	check := func(step int) {
		from := base.Add(time.Duration(r.IntN(5000)-100) * time.Second)
		var cnt int
		var sum wide
		tr.since(from, &cnt, &sum)
		wantCnt, wantSum := 0, uint64(0)
		fk := keyOf(from, "")
		for k, a := range live {
			if !k.less(fk) {
				wantCnt++
				wantSum += a
			}
		}
		if cnt != wantCnt || sum.big().Uint64() != wantSum || sum.hi != 0 {
			t.Fatalf("step %d since %s: %d entries summing %s, want %d summing %d", step, from, cnt, sum.big(), wantCnt, wantSum)
		}
	}
	for step := range 20000 {
		if len(keys) == 0 || r.IntN(3) > 0 {
			at := base.Add(time.Duration(r.IntN(4800)) * time.Second) // many entries share a second
			k := keyOf(at, "t"+strconv.Itoa(step))
			a := uint64(1 + r.IntN(1000))
			var w wide
			w.lo.SetUint64(a)
			tr.insert(k, w)
			live[k] = a
			keys = append(keys, k)
		} else {
			i := r.IntN(len(keys))
			k := keys[i]
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			if !tr.erase(k) {
				t.Fatalf("step %d: %v not found", step, k)
			}
			delete(live, k)
			if tr.erase(k) {
				t.Fatalf("step %d: %v erased twice", step, k)
			}
		}
		if step%97 == 0 {
			check(step)
		}
	}
	depth := 0
	for n := tr.root; n != nil && !n.leaf(); n = n.kids[0] {
		depth++
	}
	if len(live) < 5000 || depth < 2 {
		t.Fatalf("%d live entries in a tree of depth %d: the test wants inner levels", len(live), depth)
	}
	for len(keys) > 0 { // empty it: every node goes
		k := keys[len(keys)-1]
		keys = keys[:len(keys)-1]
		if !tr.erase(k) {
			t.Fatalf("%v not found while emptying", k)
		}
		delete(live, k)
	}
	check(-1)
	if !tr.empty() {
		t.Fatal("an emptied tree is not empty")
	}
}

func TestWideCarries(t *testing.T) {
	var max wide
	max.lo.SetAllOne()
	var s wide
	s.add(&max)
	s.add(&max)
	if s.hi != 1 {
		t.Fatalf("2·(2^256-1) carried %d", s.hi)
	}
	s.sub(&max)
	if s.hi != 0 || s.lo != max.lo {
		t.Fatalf("(2·(2^256-1)) - (2^256-1) = %s", s.big())
	}
}
