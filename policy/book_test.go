package policy_test

import (
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/policy"
	pt "github.com/cofferhq/coffer/policy/policytest"
)

// The incrementally kept book must decide exactly as a state recomputed
// from scratch out of the same spends, for every request, through adds,
// replacements, removals and pruning, with amounts and fees up to 2^256-1
// whose sums need more than 256 bits. Fee totals are compared through the
// trace: fee budget lines and source windows that count fees.
func TestPropertyBookMatchesRecomputation(t *testing.T) {
	r := rng(t, 41)
	huge, _ := new(big.Int).SetString("115792089237316195423570985008687907853269984665640564039457584007913129639935", 10)
	hugeAmt, err := policy.AmountFromBig(huge)
	if err != nil {
		t.Fatal(err)
	}
	decisions, limitLines, feeLines := 0, 0, 0
	for c := range 120 {
		p := mustPolicy(t, pt.RandomDoc(r, 8))
		if c%2 == 0 {
			f := pt.New() // the fixture's limits in every scope
			pt.RandomFees(r, &f.Doc)
			p = f.Policy(t)
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
					if r.IntN(30) == 0 {
						s.Fee = hugeAmt
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
				// behind every window (≤ 24h): a window reaching past the
				// cutoff denies in the book (TestBookHorizonDenies)
				cutoff := now.Add(-24*time.Hour - time.Duration(1+r.IntN(6*60))*time.Minute)
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
				for _, l := range slices.Concat(want.Trace, []string{want.Reason}) {
					if strings.HasPrefix(l, "limit ") {
						limitLines++
					}
					if strings.HasPrefix(l, "fee budget of ") || strings.HasPrefix(l, "limit ") && strings.Contains(l, " and fees (") {
						feeLines++
					}
				}
			}
		}
	}
	t.Logf("%d decisions compared, %d limit lines, %d with fee totals", decisions, limitLines, feeLines)
	if limitLines < 1000 || feeLines < 300 {
		t.Fatalf("only %d limit lines, %d with fee totals compared: the generator no longer exercises limits and fees", limitLines, feeLines)
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

// A book that no longer holds a window's start (pruned, or loaded from a
// later time) denies rather than undercount: limits and fee budgets alike.
func TestBookHorizonDenies(t *testing.T) {
	f := pt.New()
	f.Doc.Invariants.FeeBudgets = []policy.FeeBudget{{Wallet: "btc-hot", Window: hours(48), MaxFee: policy.MustAmount("1000000")}}
	p := f.Policy(t)
	req := pt.BTC("w", "btc-hot", pt.BTCKraken, 1000, t0)
	decide := func(b *policy.Book) (d policy.Decision) {
		b.Read(func(v policy.BookView) { d = policy.Evaluate(p, policy.State{}.WithBook(v, ""), req, t0) })
		return d
	}
	old := feeSpend(t0.Add(-40*time.Hour), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "1000", "999000")
	b := policy.NewBook()
	if err := b.Add("old", old); err != nil {
		t.Fatal(err)
	}
	// All history: the 48h budget holds 999000 + 5000.
	d := decide(b)
	expect(t, d, policy.EffectDeny, "")
	if !strings.Contains(d.Reason, "999000 + this request's 5000 = 1004000 (max 1000000)") {
		t.Fatalf("reason %q", d.Reason)
	}
	// Pruned at 30h: the budget's window reaches past what the book holds.
	b.Prune(t0.Add(-30 * time.Hour))
	d = decide(b)
	expect(t, d, policy.EffectDeny, "")
	if !strings.Contains(d.Reason, "fee budget of btc-hot over 48h0m0s") || !strings.Contains(d.Reason, "cannot be checked") {
		t.Fatalf("reason %q", d.Reason)
	}
	// Loaded from 30h back: the same. Loaded from 48h back: allowed.
	if err := b.Reset(map[string]policy.Spend{}, t0.Add(-30*time.Hour), 1); err != nil {
		t.Fatal(err)
	}
	expect(t, decide(b), policy.EffectDeny, "")
	if err := b.Reset(map[string]policy.Spend{}, t0.Add(-48*time.Hour), 2); err != nil {
		t.Fatal(err)
	}
	expect(t, decide(b), policy.EffectAllow, "withdraw-btc")
	// A rule's window past the horizon denies the same way.
	if err := b.Reset(map[string]policy.Spend{}, t0.Add(-30*time.Minute), 3); err != nil {
		t.Fatal(err)
	}
	f.Doc.Invariants.FeeBudgets = nil
	p = f.Policy(t)
	d = decide(b)
	expect(t, d, policy.EffectDeny, "withdraw-btc")
	if !strings.Contains(d.Reason, "limit source btc-hot over 1h0m0s") || !strings.Contains(d.Reason, "cannot be checked") {
		t.Fatalf("reason %q", d.Reason)
	}
}

// A removed or replaced spend's fee leaves the book's fee totals.
func TestBookFeesFollowRemoval(t *testing.T) {
	f := pt.New()
	f.Doc.Invariants.FeeBudgets = []policy.FeeBudget{{Wallet: "btc-hot", Window: hours(24), MaxFee: policy.MustAmount("10000")}}
	p := f.Policy(t)
	req := pt.BTC("w", "btc-hot", pt.BTCKraken, 1000, t0)
	b := policy.NewBook()
	effect := func() (e policy.Effect) {
		b.Read(func(v policy.BookView) { e = policy.Evaluate(p, policy.State{}.WithBook(v, ""), req, t0).Effect })
		return e
	}
	s := feeSpend(t0.Add(-time.Hour), "btc-hot", pt.BTCKraken, "withdraw-btc", "BTC", "1000", "5001")
	if err := b.Add("a", s); err != nil {
		t.Fatal(err)
	}
	if effect() != policy.EffectDeny {
		t.Fatal("5001 + 5000 fit a budget of 10000")
	}
	s.Fee = policy.MustAmount("5000")
	if err := b.Add("a", s); err != nil { // replaced
		t.Fatal(err)
	}
	if effect() != policy.EffectAllow {
		t.Fatal("the replaced spend's fee still counts")
	}
	s.Fee = policy.MustAmount("9000")
	if err := b.Add("a", s); err != nil || effect() != policy.EffectDeny || !b.Remove("a") || effect() != policy.EffectAllow {
		t.Fatalf("a removed spend's fee still counts (%v)", err)
	}
}
