package policy

import (
	"math/big"
	"strconv"
	"time"
)

// rule is a compiled rule: concrete match sets for analysis and
// index-addressed flags for Evaluate.
type rule struct {
	idx int
	r   Rule
	ok  bool // compiled without errors; analysis skips broken rules
	m   matchSet

	src         []bool // by wallet index
	dstOwn      []bool // by wallet index
	dstWL       []bool // by whitelist index
	dstExternal bool
	assets      []bool // by asset index
	timelock    time.Duration
	// Trace lines, built once so that Evaluate does not allocate them.
	noMatch [numDims]string
	matched string
	windows []string // " over <window> since " per limit
	// maxFeeBps is the rule's relative fee cap (0: none).
	maxFeeBps uint64
	// The amount range as uint64 when both bounds fit (the common case).
	boundsFit    bool
	minU, maxU   uint64
	maxUnbounded bool
}

// Match dimensions, in the order Evaluate checks them.
const (
	dimSource = iota
	dimAsset
	dimDestination
	dimAmount
	dimRole
	numDims
)

var dimNames = [numDims]string{"source", "asset", "destination", "amount", "initiator role"}

// matchSet is the concrete set of requests a rule matches, per dimension.
type matchSet struct {
	src      map[string]bool // source wallet IDs
	assets   map[string]bool // asset IDs
	min, max *big.Int        // inclusive; max nil = unbounded
	anyRole  bool
	roles    map[string]bool
	own      map[string]bool // own destination wallet IDs
	external bool            // any external address
	wls      map[string]bool // whitelist IDs (active entries)
}

func (c *compiler) compileRules() {
	seen := map[string]int{}
	for i, r := range c.doc.Rules {
		path := "rules[" + strconv.Itoa(i) + "] " + strconv.Quote(r.ID)
		cr := &rule{idx: i, r: r}
		nerr := len(c.errs)
		if !validID(r.ID) {
			c.fail(path, ErrInvalid, "id must be 1-64 of [A-Za-z0-9._-], starting alphanumeric")
		} else if j, dup := seen[r.ID]; dup {
			c.fail(path, ErrDuplicateID, "same id as rules[%d]", j)
		} else {
			seen[r.ID] = i
		}
		switch r.Action {
		case ActionAllow, ActionRequireApproval, ActionDeny:
		default:
			c.fail(path+".action", ErrInvalid, "action %q: want allow, require_approval or deny", r.Action)
		}
		c.compileMatch(path+".match", cr)
		c.compileApprovals(path, cr)
		c.compileLimits(path, cr)
		c.compileRuleFee(path, cr)
		cr.timelock = r.Timelock.D()
		if r.Action == ActionDeny && (r.Timelock != 0 || len(r.VetoGroups) > 0) {
			c.fail(path, ErrInvalid, "a deny rule has no timelock or veto groups")
		}
		for _, g := range r.VetoGroups {
			if _, ok := c.p.groups[g]; !ok {
				c.fail(path+".veto_groups", ErrUnknownGroup, "%q", g)
			}
		}
		cr.ok = len(c.errs) == nerr
		for d, name := range dimNames {
			cr.noMatch[d] = "rule " + r.ID + ": no match (" + name + ")"
		}
		cr.matched = "rule " + r.ID + ": matches, action " + string(r.Action)
		for _, l := range r.Limits {
			cr.windows = append(cr.windows, " over "+l.Window.String()+" since ")
		}
		c.p.rules = append(c.p.rules, cr)
	}
}

func (c *compiler) compileMatch(path string, cr *rule) {
	m := cr.r.Match
	p := c.p
	ms := matchSet{src: map[string]bool{}, assets: map[string]bool{}, own: map[string]bool{}, roles: map[string]bool{}}
	// Source.
	for _, id := range m.Source.Wallets {
		if _, ok := p.walletIx[id]; !ok {
			c.fail(path+".source.wallets", ErrUnknownWallet, "%q", id)
		}
		ms.src[id] = true
	}
	c.addClasses(path+".source.classes", m.Source.Classes, ms.src)
	if len(m.Source.Wallets) == 0 && len(m.Source.Classes) == 0 {
		for _, w := range p.wallets {
			ms.src[w.w.ID] = true
		}
	}
	// Destination.
	d := m.Destination
	for _, id := range d.Wallets {
		if _, ok := p.walletIx[id]; !ok {
			c.fail(path+".destination.wallets", ErrUnknownWallet, "%q", id)
		}
		ms.own[id] = true
	}
	c.addClasses(path+".destination.classes", d.Classes, ms.own)
	ms.wls = map[string]bool{}
	for _, id := range d.Whitelists {
		if _, ok := p.wlIx[id]; !ok {
			c.fail(path+".destination.whitelists", ErrUnknownWhitelist, "%q", id)
		}
		ms.wls[id] = true
	}
	ms.external = d.External
	if len(d.Wallets) == 0 && len(d.Classes) == 0 && len(d.Whitelists) == 0 && !d.External {
		for _, w := range p.wallets {
			ms.own[w.w.ID] = true
		}
		ms.external = true
	}
	// Assets.
	for _, id := range m.Assets {
		if _, ok := p.assetIx[id]; !ok {
			c.fail(path+".assets", ErrUnknownAsset, "%q", id)
		}
		ms.assets[id] = true
	}
	if len(m.Assets) == 0 {
		for _, a := range p.assets {
			ms.assets[a.id] = true
		}
	}
	// Amount.
	ms.min = new(big.Int)
	if m.Amount.Min != nil {
		ms.min = m.Amount.Min.Big()
	}
	if m.Amount.Max != nil {
		ms.max = m.Amount.Max.Big()
	}
	if (m.Amount.Min != nil || m.Amount.Max != nil) && len(m.Assets) != 1 {
		c.fail(path+".amount", ErrInvalid, "an amount range needs exactly one asset in match.assets")
	}
	if ms.max != nil && ms.max.Cmp(ms.min) < 0 {
		c.fail(path+".amount", ErrNeverMatches, "empty range: min %s > max %s", ms.min, ms.max)
	} else if ms.max != nil && ms.max.Sign() == 0 {
		c.fail(path+".amount", ErrNeverMatches, "max 0: transfers are of a positive amount")
	}
	// Initiator roles.
	for _, role := range m.InitiatorRoles {
		if !p.roles[role] {
			c.fail(path+".initiator_roles", ErrUnknownRole, "%q", role)
		}
		ms.roles[role] = true
	}
	ms.anyRole = len(m.InitiatorRoles) == 0
	cr.m = ms
	cr.minU, cr.maxUnbounded = ms.min.Uint64(), ms.max == nil
	cr.boundsFit = ms.min.IsUint64() && (ms.max == nil || ms.max.IsUint64())
	if ms.max != nil && ms.max.IsUint64() {
		cr.maxU = ms.max.Uint64()
	}
	cr.src = flags(p.wallets, ms.src, func(w *walletInfo) string { return w.w.ID })
	cr.dstOwn = flags(p.wallets, ms.own, func(w *walletInfo) string { return w.w.ID })
	cr.dstWL = flags(p.whitelists, ms.wls, func(w *whitelistInfo) string { return w.id })
	cr.assets = flags(p.assets, ms.assets, func(a *assetInfo) string { return a.id })
	cr.dstExternal = ms.external
}

func (c *compiler) addClasses(path string, classes []Class, into map[string]bool) {
	for _, cl := range classes {
		switch cl {
		case ClassHot, ClassWarm, ClassCold, ClassSAFU:
		default:
			c.fail(path, ErrInvalid, "class %q: want hot, warm, cold or safu", cl)
			continue
		}
		for _, w := range c.p.wallets {
			if w.w.Class == cl {
				into[w.w.ID] = true
			}
		}
	}
}

func flags[T any](items []T, set map[string]bool, id func(T) string) []bool {
	out := make([]bool, len(items))
	for i, it := range items {
		out[i] = set[id(it)]
	}
	return out
}
