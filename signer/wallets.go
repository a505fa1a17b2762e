package signer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/policy"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// walletInfo is a policy wallet with its key reference parsed: key_id
// "hot-1/0/7" is key hot-1's non-hardened child m/0/7.
type walletInfo struct {
	policy.Wallet
	Key  string
	Path []uint32
}

// Address is the wallet's address: the first the policy lists.
func (w walletInfo) Address() string { return w.Addresses[0] }

// policyView is the active policy with lookups the gate needs.
type policyView struct {
	p       *policy.Policy
	hash    string
	wallets map[string]walletInfo
	byAddr  map[string]walletInfo // address (lowercase for eth) → wallet
	assets  map[string]policy.Asset
	// window is the longest limit window of any rule: spends older than
	// now-window can change no decision, so a decision never reads them.
	window time.Duration
}

func newPolicyView(p *policy.Policy) (*policyView, error) {
	doc := p.Document()
	v := &policyView{p: p, hash: p.Hash().String(), wallets: map[string]walletInfo{},
		byAddr: map[string]walletInfo{}, assets: map[string]policy.Asset{}}
	for _, a := range doc.Assets {
		v.assets[a.ID] = a
	}
	for _, r := range doc.Rules {
		for _, l := range r.Limits {
			v.window = max(v.window, l.Window.D())
		}
	}
	for _, w := range doc.Wallets {
		key, path, err := parseKeyRef(w.KeyID)
		if err != nil {
			return nil, fmt.Errorf("policy wallet %s: %w", w.ID, err)
		}
		if len(w.Addresses) == 0 {
			return nil, fmt.Errorf("policy wallet %s: no address", w.ID)
		}
		wi := walletInfo{Wallet: w, Key: key, Path: path}
		v.wallets[w.ID] = wi
		for _, a := range w.Addresses {
			v.byAddr[addrKey(string(w.Chain), a)] = wi
		}
	}
	return v, nil
}

func addrKey(chain, addr string) string {
	if chain == "eth" {
		return chain + ":" + strings.ToLower(addr)
	}
	return chain + ":" + addr
}

// parseKeyRef splits "key[/i/j…]" into the key ID and a non-hardened path.
func parseKeyRef(s string) (string, []uint32, error) {
	parts := strings.Split(s, "/")
	if !ValidKeyID(parts[0]) {
		return "", nil, fmt.Errorf("key_id %q: malformed key ID", s)
	}
	var path []uint32
	for _, p := range parts[1:] {
		i, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return "", nil, fmt.Errorf("key_id %q: %q is not a non-hardened index", s, p)
		}
		path = append(path, uint32(i))
	}
	return parts[0], path, nil
}

// walletKey derives the wallet's signing key from this node's key record
// and checks that the policy's address is that key's address: a wallet
// whose address does not come from its key cannot be spent from.
func (n *Node) walletKey(w walletInfo) (pub []byte, err error) {
	rec, err := n.store.Key(w.Key)
	if err != nil {
		return nil, fmt.Errorf("wallet %s: %w", w.ID, err)
	}
	master, err := ctss.ParsePubKey(rec.PublicKey)
	if err != nil {
		return nil, err
	}
	_, child, err := ctss.Derive(master, rec.ChainCode, w.Path)
	if err != nil {
		return nil, fmt.Errorf("wallet %s: %w", w.ID, err)
	}
	pub, err = ctss.CompressedPubKey(child)
	if err != nil {
		return nil, err
	}
	var addr string
	switch w.Chain {
	case "btc":
		addr, err = btc.P2WPKHAddress(pub, w.Network)
	case "eth":
		addr, err = eth.AddressFromPubKeyBytes(pub)
	default:
		err = fmt.Errorf("unknown chain %q", w.Chain)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet %s: %w", w.ID, err)
	}
	if addrKey(string(w.Chain), addr) != addrKey(string(w.Chain), w.Address()) {
		return nil, fmt.Errorf("wallet %s: the policy's address %s is not key %s's address %s", w.ID, w.Address(), w.KeyID, addr)
	}
	return pub, nil
}

// walletOfKey names a wallet of the active policy that spends with key
// (master or child), if any.
func (n *Node) walletOfKey(key string) (string, bool) {
	pv, err := n.activePolicy(n.now())
	if err != nil {
		return "", false
	}
	for id, w := range pv.wallets {
		if w.Key == key {
			return id, true
		}
	}
	return "", false
}
