package policy

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Policy is a validated, compiled, immutable policy version, indexed for
// Evaluate. Build one with Load or New.
type Policy struct {
	doc       Document
	canonical []byte
	hash      Hash
	parent    Hash

	admins     map[string]PublicKey
	roles      map[string]bool
	groups     map[string]*groupInfo
	officers   map[string]*officerInfo
	assets     []*assetInfo
	assetIx    map[string]int
	wallets    []*walletInfo
	walletIx   map[string]int
	addrWallet map[netAddr]int
	whitelists []*whitelistInfo
	wlIx       map[string]int
	wlByAddr   map[chainAddr][]wlHit
	feeCaps    map[Chain]*feeCap
	rules      []*rule
	traceHead  string // first trace line, up to the time
}

type groupInfo struct {
	id      string
	members []string // sorted officer IDs
	member  map[string]bool
}

type officerInfo struct {
	id     string
	key    PublicKey
	groups []string
}

type assetInfo struct {
	idx   int
	id    string
	chain Chain
	// contract is the ERC-20 contract (canonical address), "" for native.
	contract string
}

type walletInfo struct {
	idx int
	w   Wallet
	net string // network (btc) or decimal chain ID (eth)
	// pinned is the set of wallet indexes a cold/SAFU wallet may pay to.
	pinned map[int]bool
	// budgets are the wallet's fee budgets, by window.
	budgets []feeBudget
}

// netAddr keys an own wallet's address on one network.
type netAddr struct {
	chain Chain
	net   string
	addr  string
}

// chainAddr keys a whitelisted address on one chain.
type chainAddr struct {
	chain Chain
	addr  string
}

type whitelistInfo struct {
	idx     int
	id      string
	chain   Chain
	delay   time.Duration
	entries map[string]WhitelistEntry
}

type wlHit struct {
	wl    int
	entry WhitelistEntry
}

type walletAsset struct{ wallet, asset string }

// New validates and compiles d. Every problem is reported at once.
func New(d Document) (*Policy, error) {
	n := d.normalized()
	c := &compiler{doc: n, p: &Policy{doc: n}}
	c.compile()
	if len(c.errs) > 0 {
		return nil, fmt.Errorf("validate policy: %w", errors.Join(c.errs...))
	}
	canon, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode canonical policy: %w", err)
	}
	c.p.canonical = canon
	c.p.hash = sha256.Sum256(canon)
	c.p.traceHead = "policy version " + strconv.FormatUint(n.Version, 10) + " " + c.p.hash.String() + " at "
	return c.p, nil
}

// Hash is SHA-256 of Canonical(): it names this version.
func (p *Policy) Hash() Hash { return p.hash }

// Canonical returns the canonical JSON encoding of the normalized document
// (struct field order, sorted sets, canonical keys, amounts, durations and
// UTC times). It does not depend on YAML layout, comments or key order.
func (p *Policy) Canonical() []byte { return append([]byte(nil), p.canonical...) }

// Version returns the document's version number.
func (p *Policy) Version() uint64 { return p.doc.Version }

// Parent returns the parent version's hash (zero for a first version).
func (p *Policy) Parent() Hash { return p.parent }

// LoosenDelay returns how long a loosening change of this version waits.
func (p *Policy) LoosenDelay() time.Duration { return p.doc.LoosenDelay.D() }

// Document returns a deep copy of the normalized document.
func (p *Policy) Document() Document { return p.doc.normalized() }

// AdminQuorum returns how many distinct admins must sign a change.
func (p *Policy) AdminQuorum() int { return p.doc.Admins.Quorum }

// AdminKey returns an admin's key.
func (p *Policy) AdminKey(id string) (PublicKey, bool) {
	k, ok := p.admins[id]
	return k, ok
}

// OfficerKey returns an officer's key.
func (p *Policy) OfficerKey(id string) (PublicKey, bool) {
	o, ok := p.officers[id]
	if !ok {
		return PublicKey{}, false
	}
	return o.key, true
}

// RuleIDs returns the rule IDs in evaluation order.
func (p *Policy) RuleIDs() []string {
	out := make([]string, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.r.ID
	}
	return out
}

// LongestWindow is the longest window any limit or fee budget totals:
// spends older than now minus it can change no decision. A spend source
// (Book) must hold at least that much history, or the decisions whose
// windows reach past it deny.
func (p *Policy) LongestWindow() time.Duration {
	var d time.Duration
	for _, r := range p.rules {
		for _, l := range r.r.Limits {
			d = max(d, l.Window.D())
		}
	}
	for _, w := range p.wallets {
		for _, b := range w.budgets {
			d = max(d, b.window)
		}
	}
	return d
}

func netOf(w Wallet) string {
	if w.Chain == ChainETH {
		return strconv.FormatUint(w.ChainID, 10)
	}
	return w.Network
}
