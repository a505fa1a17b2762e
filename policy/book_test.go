package policy_test

import (
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// The incrementally kept book must decide exactly as a state recomputed
// from scratch out of the same spends, for every request, through adds,
// replacements, removals and pruning, with amounts up to 2^256-1 whose
// sums need more than 256 bits.
func TestPropertyBookMatchesRecomputation(t *testing.T) {
	r := rng(t, 41)
	huge, _ := new(big.Int).SetString("115792089237316195423570985008687907853269984665640564039457584007913129639935", 10)
	hugeAmt, err := policy.AmountFromBig(huge)
	if err != nil {
		t.Fatal(err)
	}
	decisions, limitLines := 0, 0
	for c := range 120 {
		p := mustPolicy(t, pt.RandomDoc(r, 8))
		if c%2 == 0 {
			p = pt.New().Policy(t) // the fixture's limits in every scope
		}
		book := policy.NewBook()
		live := map[string]policy.Spend{}
		now := randomNow(r)
		for step := range 80 {
			now = now.Add(time.Duration(r.IntN(20)) * time.Minute)
			req := pt.RandomRequest(r, now)
			snap := pt.RandomSnapshot(r, req, p.RuleIDs(), now)
			switch op := r.IntN(10); {
			case op < 5:
				for _, s := range snap.Spends {
					id := "t" + strconv.Itoa(r.IntN(400))
					if r.IntN(30) == 0 {
						s.Amount = hugeAmt
					}
					if err := book.Add(id, s); err != nil {
						t.Fatal(err)
					}
					live[id] = s
				}
			case op < 7:
				for range r.IntN(4) {
					ids := slices.Sorted(maps.Keys(live))
					if len(ids) == 0 {
						break
					}
					id := ids[r.IntN(len(ids))]
					if !book.Remove(id) {
						t.Fatalf("case %d step %d: %s not in the book", c, step, id)
					}
					delete(live, id)
				}
			case op < 8:
				cutoff := now.Add(-time.Duration(r.IntN(30*60)) * time.Minute)
				want := 0
				for id, s := range live {
					if s.At.Before(cutoff) {
						delete(live, id)
						want++
					}
				}
				if got := book.Prune(cutoff); got != want {
					t.Fatalf("case %d step %d: pruned %d, want %d", c, step, got, want)
				}
			}
			if book.Len() != len(live) {
				t.Fatalf("case %d step %d: book holds %d spends, want %d", c, step, book.Len(), len(live))
			}
			for k := range 5 {
				if k > 0 {
					req = pt.RandomRequest(r, now)
				}
				except := ""
				if ids := slices.Sorted(maps.Keys(live)); len(ids) > 0 && r.IntN(3) == 0 {
					except = ids[r.IntN(len(ids))]
				}
				ref := snap
				ref.Spends = nil
				for id, s := range live {
					if id != except {
						ref.Spends = append(ref.Spends, s)
					}
				}
				want := policy.Evaluate(p, pt.State(t, ref), req, now)
				base := snap
				base.Spends = nil
				var got policy.Decision
				book.Read(func(v policy.BookView) {
					got = policy.Evaluate(p, pt.State(t, base).WithBook(v, except), req, now)
				})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("case %d step %d: book decides\n%+v\nrecomputed state decides\n%+v", c, step, got, want)
				}
				decisions++
				for _, l := range want.Trace {
					if len(l) > 6 && l[:6] == "limit " {
						limitLines++
					}
				}
			}
		}
	}
	t.Logf("%d decisions compared, %d limit lines", decisions, limitLines)
	if limitLines < 1000 {
		t.Fatalf("only %d limit lines compared: the generator no longer exercises limits", limitLines)
	}
}

func TestBookRefusesIncompleteSpends(t *testing.T) {
	b := policy.NewBook()
	ok := policy.Spend{At: t0, Source: "btc-hot", To: "bc1q", Asset: "BTC", Amount: policy.AmountFromUint64(1)}
	for name, s := range map[string]policy.Spend{
		"no time": {Source: "a", To: "b", Asset: "BTC"}, "no source": {At: t0, To: "b", Asset: "BTC"},
		"no destination": {At: t0, Source: "a", Asset: "BTC"}, "no asset": {At: t0, Source: "a", To: "b"},
	} {
		if err := b.Add("x", s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := b.Add("", ok); err == nil {
		t.Error("a spend without a transfer ID was accepted")
	}
	if b.Len() != 0 {
		t.Fatalf("refused spends changed the book: %d", b.Len())
	}
}
