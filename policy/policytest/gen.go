package policytest

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cofferhq/coffer/policy"
)

// Generators for property tests. They draw from the fixture's entities
// (wallets, assets, officers, groups, whitelists) and randomize rules,
// requests and state. Every draw comes from the caller's seeded *rand.Rand.

var (
	wallets    = []string{"btc-hot", "btc-cold", "btc-safu", "eth-hot", "eth-cold"}
	classes    = []policy.Class{policy.ClassHot, policy.ClassWarm, policy.ClassCold, policy.ClassSAFU}
	assets     = []string{"BTC", "ETH", "USDC"}
	groups     = []string{"treasury", "risk"}
	roles      = []string{"withdrawal", "operator"}
	whitelists = []string{"btc-exchanges", "eth-exchanges"}
	scopes     = []policy.Scope{policy.ScopeRule, policy.ScopeSource, policy.ScopeDestination}
	windows    = []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 24 * time.Hour}
	officers   = []string{"tom", "tina", "theo", "rita", "raj", "ida"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func subsetOf[T any](r *rand.Rand, xs []T) []T {
	var out []T
	for _, x := range xs {
		if r.IntN(3) == 0 {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		out = append(out, pick(r, xs))
	}
	return out
}

func amountPtr(v uint64) *policy.Amount {
	a := policy.AmountFromUint64(v)
	return &a
}

// RandomDoc returns a valid document: the fixture's entities, sometimes
// with random fee bounds (RandomFees), and up to maxRules random rules,
// each kept only if the document stays valid.
func RandomDoc(r *rand.Rand, maxRules int) policy.Document {
	d := New().Doc
	if r.IntN(3) == 0 {
		RandomFees(r, &d)
	}
	d.Rules = nil
	n := r.IntN(maxRules + 1)
	for i := 0; len(d.Rules) < n && i < 20*maxRules; i++ {
		d.Rules = append(d.Rules, RandomRule(r, "r"+strconv.Itoa(i)))
		if _, err := policy.New(d); err != nil {
			d.Rules = d.Rules[:len(d.Rules)-1]
		}
	}
	return d
}

// RandomRule returns a random, possibly invalid, rule.
func RandomRule(r *rand.Rand, id string) policy.Rule {
	ru := policy.Rule{ID: id, Action: pick(r, []policy.Action{policy.ActionAllow, policy.ActionRequireApproval, policy.ActionDeny})}
	m := &ru.Match
	switch r.IntN(3) {
	case 1:
		m.Source.Wallets = subsetOf(r, wallets)
	case 2:
		m.Source.Classes = subsetOf(r, classes)
	}
	if r.IntN(4) > 0 {
		if r.IntN(2) == 0 {
			m.Destination.Wallets = subsetOf(r, wallets)
		}
		if r.IntN(3) == 0 {
			m.Destination.Classes = subsetOf(r, classes)
		}
		if r.IntN(2) == 0 {
			m.Destination.Whitelists = subsetOf(r, whitelists)
		}
		m.Destination.External = r.IntN(4) == 0
	}
	switch r.IntN(3) {
	case 1:
		m.Assets = []string{pick(r, assets)}
		if r.IntN(2) == 0 {
			lo := uint64(r.IntN(500))
			m.Amount = policy.AmountRange{Min: amountPtr(lo), Max: amountPtr(lo + 1 + uint64(r.IntN(1500)))}
		}
	case 2:
		m.Assets = subsetOf(r, assets)
	}
	if r.IntN(3) == 0 {
		m.InitiatorRoles = subsetOf(r, roles)
	}
	if ru.Action == policy.ActionDeny {
		return ru
	}
	if ru.Action == policy.ActionRequireApproval {
		for range r.IntN(3) {
			ru.Approvals.AllOf = append(ru.Approvals.AllOf, policy.Term{Group: pick(r, groups), K: 1 + r.IntN(2)})
		}
		for range r.IntN(3) {
			ru.Approvals.AnyOf = append(ru.Approvals.AnyOf, policy.Term{Group: pick(r, groups), K: 1 + r.IntN(2)})
		}
		if len(ru.Approvals.AllOf)+len(ru.Approvals.AnyOf) == 0 {
			ru.Approvals.AllOf = []policy.Term{{Group: pick(r, groups), K: 1}}
		}
	}
	for range r.IntN(3) {
		l := policy.Limit{Scope: pick(r, scopes), Window: policy.Duration(pick(r, windows)), MaxCount: r.IntN(6)}
		if len(m.Assets) == 1 && r.IntN(2) == 0 {
			l.MaxAmount = amountPtr(1 + uint64(r.IntN(4000)))
		}
		if l.MaxAmount == nil && l.MaxCount == 0 {
			l.MaxCount = 1 + r.IntN(5)
		}
		ru.Limits = append(ru.Limits, l)
	}
	if len(m.Assets) > 0 && !slices.Contains(m.Assets, "USDC") && r.IntN(4) == 0 {
		ru.MaxFeeBps = uint64Ptr(1 + uint64(r.IntN(10_000)))
	}
	ru.Timelock = policy.Duration(pick(r, []time.Duration{0, 0, 10 * time.Minute, time.Hour}))
	if r.IntN(3) == 0 {
		ru.VetoGroups = subsetOf(r, groups)
	}
	return ru
}

var (
	btcDestinations = []string{BTCHot, BTCCold, BTCSAFU, BTCKraken, BTCLate, BTCStranger}
	destinations    = append(slices.Clone(btcDestinations), ETHHot, ETHCold, ETHCoinbase, ETHStranger)
)

// RandomRequest returns a request, mostly well-formed and consistent, at
// or before now.
func RandomRequest(r *rand.Rand, now time.Time) policy.Request {
	id := "q" + strconv.Itoa(r.IntN(1<<30))
	src := pick(r, wallets)
	to := pick(r, btcDestinations)
	if r.IntN(20) == 0 {
		to = pick(r, destinations) // maybe of another chain
	}
	amount := uint64(1 + r.IntN(2000))
	submitted := now.Add(-time.Duration(r.IntN(80*60)) * time.Minute)
	var req policy.Request
	if src[:3] == "btc" {
		req = BTC(id, src, to, amount, submitted)
	} else {
		asset := pick(r, []string{"ETH", "USDC"})
		if !isHex(to) && r.IntN(20) > 0 {
			to = pick(r, []string{ETHHot, ETHCold, ETHCoinbase, ETHStranger})
		}
		if !isHex(to) {
			asset = "ETH" // no ERC-20 calldata for a non-address
		}
		req = ETH(id, src, to, asset, policy.AmountFromUint64(amount), submitted)
	}
	req.InitiatorRole = pick(r, []string{"withdrawal", "operator", "", "auditor"})
	req.Initiator = pick(r, append([]string{"withdrawal-svc"}, officers...))
	if r.IntN(25) == 0 {
		req.Asset = pick(r, assets) // maybe of another chain
	}
	if r.IntN(25) == 0 {
		req.Fee = policy.AmountFromUint64(uint64(r.IntN(1 << 20)))
	}
	if req.ETH == nil && r.IntN(2) == 0 {
		req.Fee = policy.AmountFromUint64(uint64(1 + r.IntN(100))) // within some relative caps
	}
	if req.ETH == nil && r.IntN(20) == 0 {
		req.VSize = 0 // a fee rate ceiling denies
	}
	return req
}

func isHex(addr string) bool { return len(addr) == 42 && addr[:2] == "0x" }

// RandomSnapshot returns ledger state around now for req: approvals (most
// over req's digest), spends under random rules within a day,
// sometimes a whitelist activation and rarely the frozen flag.
func RandomSnapshot(r *rand.Rand, req policy.Request, ruleIDs []string, now time.Time) policy.Snapshot {
	var s policy.Snapshot
	for range r.IntN(8) {
		digest := req.Digest
		if r.IntN(5) == 0 {
			digest = Digest("other" + strconv.Itoa(r.IntN(3)))
		}
		who := pick(r, append([]string{"mallory"}, officers...))
		at := now.Add(-time.Duration(r.IntN(30*60)) * time.Minute).Add(time.Duration(r.IntN(3)) * time.Minute)
		v := policy.VerdictApprove
		if r.IntN(8) == 0 {
			v = policy.VerdictReject
		}
		s.Approvals = append(s.Approvals, policy.Approval{Officer: who, Verdict: v, Digest: digest, At: at})
	}
	ruleIDs = append(slices.Clone(ruleIDs), "gone")
	for range r.IntN(12) {
		sp := policy.Spend{Source: pick(r, wallets), To: pick(r, destinations), Rule: pick(r, ruleIDs), Asset: pick(r, assets),
			Amount: policy.AmountFromUint64(uint64(1 + r.IntN(1500)))}
		if r.IntN(2) == 0 {
			sp.Source = req.Source
		}
		if r.IntN(2) == 0 {
			sp.To = req.To
		}
		if r.IntN(2) == 0 {
			sp.Asset = req.Asset
		}
		ago := time.Duration(r.IntN(26*60)) * time.Minute
		if r.IntN(2) == 0 {
			ago = time.Duration(r.IntN(70)) * time.Minute
		}
		sp.At = now.Add(-ago)
		sp.Fee = RandomFee(r)
		s.Spends = append(s.Spends, sp)
	}
	if r.IntN(5) == 0 {
		s.WhitelistActivations = []policy.WhitelistActivation{{Whitelist: pick(r, whitelists), Address: pick(r, destinations),
			ActiveFrom: now.Add(time.Duration(r.IntN(120)-60) * time.Minute)}}
	}
	s.Frozen = r.IntN(40) == 0
	return s
}

// Shuffle returns s with every slice in a random order.
func Shuffle(r *rand.Rand, s policy.Snapshot) policy.Snapshot {
	out := policy.Snapshot{Frozen: s.Frozen}
	out.Approvals = shuffled(r, s.Approvals)
	out.Spends = shuffled(r, s.Spends)
	out.WhitelistActivations = shuffled(r, s.WhitelistActivations)
	return out
}

// ShuffleDoc returns d with its set-like lists in a random order (rules
// keep theirs).
func ShuffleDoc(r *rand.Rand, d policy.Document) policy.Document {
	d.Officers = shuffled(r, d.Officers)
	d.Wallets = shuffled(r, d.Wallets)
	d.Assets = shuffled(r, d.Assets)
	d.Groups = shuffled(r, d.Groups)
	d.Admins.Members = shuffled(r, d.Admins.Members)
	wls := shuffled(r, d.Whitelists)
	for i := range wls {
		wls[i].Entries = shuffled(r, wls[i].Entries)
	}
	d.Whitelists = wls
	d.Invariants.FeeCaps = shuffled(r, d.Invariants.FeeCaps)
	d.Invariants.FeeBudgets = shuffled(r, d.Invariants.FeeBudgets)
	return d
}

func shuffled[T any](r *rand.Rand, xs []T) []T {
	out := slices.Clone(xs)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
