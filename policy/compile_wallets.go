package policy

import (
	"strconv"
)

var btcNetworks = map[string]bool{"mainnet": true, "testnet": true, "testnet4": true, "signet": true, "regtest": true}

// validAddress checks an address's shape for its chain: a 0x-prefixed
// 20-byte hex string for eth; 14-90 ASCII letters and digits for btc (the
// chain library checks the encoding; the policy compares exact strings).
func validAddress(chain Chain, a string) bool {
	switch chain {
	case ChainETH:
		return isHexAddress(a)
	case ChainBTC:
		if len(a) < 14 || len(a) > 90 || isHexAddress(a) {
			return false
		}
		for i := 0; i < len(a); i++ {
			ch := a[i]
			if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9') {
				return false
			}
		}
		return true
	}
	return false
}

func (c *compiler) compileWallets() {
	keep := c.checkIDs("wallets", idsOf(c.doc.Wallets, func(w Wallet) string { return w.ID }))
	c.p.walletIx = map[string]int{}
	c.p.addrWallet = map[netAddr]int{}
	for i, w := range c.doc.Wallets {
		if !keep[i] {
			continue
		}
		path := "wallets[" + strconv.Quote(w.ID) + "]"
		nerr := len(c.errs)
		switch w.Chain {
		case ChainBTC:
			if !btcNetworks[w.Network] {
				c.fail(path+".network", ErrInvalid, "network %q: want mainnet, testnet, testnet4, signet or regtest", w.Network)
			}
			if w.ChainID != 0 {
				c.fail(path+".chain_id", ErrInvalid, "btc wallets have a network, not a chain_id")
			}
		case ChainETH:
			if w.ChainID == 0 {
				c.fail(path+".chain_id", ErrMissing, "eth wallets need a chain_id")
			}
			if w.Network != "" {
				c.fail(path+".network", ErrInvalid, "eth wallets have a chain_id, not a network")
			}
		default:
			c.fail(path+".chain", ErrInvalid, "chain %q: want btc or eth", w.Chain)
		}
		switch w.Class {
		case ClassHot, ClassWarm, ClassCold, ClassSAFU:
		default:
			c.fail(path+".class", ErrInvalid, "class %q: want hot, warm, cold or safu", w.Class)
		}
		if w.KeyID == "" {
			c.fail(path+".key_id", ErrMissing, "")
		}
		if len(w.Addresses) == 0 {
			c.fail(path+".addresses", ErrMissing, "at least one address")
		}
		if len(c.errs) > nerr {
			continue
		}
		idx := len(c.p.wallets)
		for j, a := range w.Addresses {
			key := netAddr{chain: w.Chain, net: netOf(w), addr: a}
			switch other, dup := c.p.addrWallet[key]; {
			case !validAddress(w.Chain, a):
				c.fail(path+".addresses", ErrInvalid, "%q is not a valid %s address", a, w.Chain)
			case j > 0 && w.Addresses[j-1] == a:
				c.fail(path+".addresses", ErrDuplicateID, "%q listed twice", a)
			case dup:
				c.fail(path+".addresses", ErrDuplicateID, "%q also belongs to wallet %q", a, c.p.wallets[other].w.ID)
			default:
				c.p.addrWallet[key] = idx
			}
		}
		c.p.walletIx[w.ID] = idx
		c.p.wallets = append(c.p.wallets, &walletInfo{idx: idx, w: w, net: netOf(w), pinned: map[int]bool{}})
	}
}

// ownOnChain reports whether addr belongs to an own wallet of chain on any
// network.
func (c *compiler) ownOnChain(chain Chain, addr string) (string, bool) {
	for _, w := range c.p.wallets {
		if w.w.Chain == chain {
			if _, ok := c.p.addrWallet[netAddr{chain: chain, net: w.net, addr: addr}]; ok {
				return w.w.ID, true
			}
		}
	}
	return "", false
}

func (c *compiler) compileWhitelists() {
	keep := c.checkIDs("whitelists", idsOf(c.doc.Whitelists, func(w Whitelist) string { return w.ID }))
	c.p.wlIx = map[string]int{}
	c.p.wlByAddr = map[chainAddr][]wlHit{}
	for i, wl := range c.doc.Whitelists {
		if !keep[i] {
			continue
		}
		path := "whitelists[" + strconv.Quote(wl.ID) + "]"
		if wl.Chain != ChainBTC && wl.Chain != ChainETH {
			c.fail(path+".chain", ErrInvalid, "chain %q: want btc or eth", wl.Chain)
			continue
		}
		info := &whitelistInfo{idx: len(c.p.whitelists), id: wl.ID, chain: wl.Chain, delay: wl.ActiveAfter.D(), entries: map[string]WhitelistEntry{}}
		for j, e := range wl.Entries {
			epath := path + ".entries[" + strconv.Quote(e.Address) + "]"
			if _, dup := info.entries[e.Address]; dup {
				if j > 0 && wl.Entries[j-1].Address == e.Address && (j == 1 || wl.Entries[j-2].Address != e.Address) {
					c.fail(epath, ErrDuplicateID, "address listed twice")
				}
				continue
			}
			nerr := len(c.errs)
			if !validAddress(wl.Chain, e.Address) {
				c.fail(epath, ErrInvalid, "not a valid %s address", wl.Chain)
			}
			if e.Label == "" {
				c.fail(epath+".label", ErrMissing, "")
			}
			if e.AddedAt.IsZero() {
				c.fail(epath+".added_at", ErrMissing, "")
			}
			if own, ok := c.ownOnChain(wl.Chain, e.Address); ok {
				c.fail(epath, ErrInvalid, "address of own wallet %q cannot be whitelisted as external", own)
			}
			if len(c.errs) > nerr {
				continue
			}
			info.entries[e.Address] = e
			key := chainAddr{chain: wl.Chain, addr: e.Address}
			c.p.wlByAddr[key] = append(c.p.wlByAddr[key], wlHit{wl: info.idx, entry: e})
		}
		c.p.wlIx[wl.ID] = info.idx
		c.p.whitelists = append(c.p.whitelists, info)
	}
}

func (c *compiler) compileInvariants() {
	inv := c.doc.Invariants
	for i, pin := range inv.PinnedDestinations {
		path := "invariants.pinned_destinations[" + strconv.Quote(pin.Wallet) + "]"
		wi, ok := c.p.walletIx[pin.Wallet]
		switch {
		case !ok:
			c.fail(path, ErrUnknownWallet, "%q", pin.Wallet)
			continue
		case i > 0 && inv.PinnedDestinations[i-1].Wallet == pin.Wallet:
			c.fail(path, ErrDuplicateID, "wallet pinned twice")
			continue
		}
		src := c.p.wallets[wi]
		if !src.w.Class.pinnedOnly() {
			c.fail(path, ErrInvalid, "only cold and safu wallets are pinned (class %s)", src.w.Class)
			continue
		}
		for j, to := range pin.To {
			di, ok := c.p.walletIx[to]
			switch {
			case !ok:
				c.fail(path+".to", ErrUnknownWallet, "%q", to)
			case j > 0 && pin.To[j-1] == to:
				c.fail(path+".to", ErrDuplicateID, "%q listed twice", to)
			case c.p.wallets[di].w.Chain != src.w.Chain || c.p.wallets[di].net != src.net:
				c.fail(path+".to", ErrInvalid, "%q is on another chain or network", to)
			default:
				src.pinned[di] = true
			}
		}
	}
	c.compileFees()
}
