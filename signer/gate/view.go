package gate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/chain/btc"
	"github.com/cofferhq/coffer/chain/eth"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/policy"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

// WalletInfo is a policy wallet with its key reference parsed: key_id
// "hot-1/0/7" is key hot-1's non-hardened child m/0/7.
type WalletInfo struct {
	policy.Wallet
	Key  string
	Path []uint32
}

// Address is the wallet's address: the first the policy lists.
func (w WalletInfo) Address() string { return w.Addresses[0] }

// PolicyView is the active policy with lookups the gate needs.
type PolicyView struct {
	Policy  *policy.Policy
	Hash    string
	Wallets map[string]WalletInfo
	ByAddr  map[string]WalletInfo // address (lowercase for eth) → wallet
	Assets  map[string]policy.Asset
	// Window is the longest window of any limit or fee budget: spends older than
	// now-Window can change no decision, so a decision never reads them.
	Window time.Duration
	// Whitelisted maps an address (addrKey) to the whitelist entries that
	// list it.
	Whitelisted map[string][]WhitelistRef
}

// WhitelistRef is one whitelist entry of an address: the node activates
// it no earlier than its first sight plus ActiveAfter.
type WhitelistRef struct {
	Key         ledger.WhitelistEntryKey
	ActiveAfter time.Duration
}

// WhitelistEntries lists every whitelist entry of the policy.
func (v *PolicyView) WhitelistEntries() []ledger.WhitelistEntryKey {
	var out []ledger.WhitelistEntryKey
	for _, refs := range v.Whitelisted {
		for _, r := range refs {
			out = append(out, r.Key)
		}
	}
	return out
}

func NewPolicyView(p *policy.Policy) (*PolicyView, error) {
	doc := p.Document()
	v := &PolicyView{Policy: p, Hash: p.Hash().String(), Wallets: map[string]WalletInfo{},
		ByAddr: map[string]WalletInfo{}, Assets: map[string]policy.Asset{}, Whitelisted: map[string][]WhitelistRef{}}
	for _, wl := range doc.Whitelists {
		for _, e := range wl.Entries {
			k := addrKey(string(wl.Chain), e.Address)
			v.Whitelisted[k] = append(v.Whitelisted[k], WhitelistRef{
				Key:         ledger.WhitelistEntryKey{Whitelist: wl.ID, Address: strings.TrimPrefix(k, string(wl.Chain)+":")},
				ActiveAfter: wl.ActiveAfter.D()})
		}
	}
	for _, a := range doc.Assets {
		v.Assets[a.ID] = a
	}
	// every window a decision reads: rule limits and fee budgets
	v.Window = p.LongestWindow()
	for _, w := range doc.Wallets {
		key, path, err := parseKeyRef(w.KeyID)
		if err != nil {
			return nil, fmt.Errorf("policy wallet %s: %w", w.ID, err)
		}
		if len(w.Addresses) == 0 {
			return nil, fmt.Errorf("policy wallet %s: no address", w.ID)
		}
		wi := WalletInfo{Wallet: w, Key: key, Path: path}
		v.Wallets[w.ID] = wi
		for _, a := range w.Addresses {
			v.ByAddr[addrKey(string(w.Chain), a)] = wi
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
	if !ctss.ValidKeyID(parts[0]) {
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

// WalletKey derives the wallet's signing key from this node's key record
// and checks that every address the policy lists for the wallet is that
// key's address: a wallet whose address does not come from its key can
// be neither spent from nor swept to (funds sent there would be out of
// the cluster's control).
func (g *Gate) WalletKey(w WalletInfo) (pub []byte, err error) {
	rec, err := g.store.Key(w.Key)
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
	for _, a := range w.Addresses {
		if addrKey(string(w.Chain), addr) != addrKey(string(w.Chain), a) {
			return nil, fmt.Errorf("wallet %s: the policy's address %s is not key %s's address %s", w.ID, a, w.KeyID, addr)
		}
	}
	return pub, nil
}

// CheckWallets checks every own wallet of the view with WalletKey: a
// policy that lists an address its key does not derive is refused before
// it is activated.
func (g *Gate) CheckWallets(v *PolicyView) error {
	ids := make([]string, 0, len(v.Wallets))
	for id := range v.Wallets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := g.WalletKey(v.Wallets[id]); err != nil {
			return err
		}
	}
	return nil
}

// RecordSummary is what a request's ledger record says, with wallet
// classes from this view, without rebuilding its transaction: for lists,
// where rebuilding every row would cost a transaction build each. The
// fee, inputs and nonce need the transaction and are left out; Rebuild
// gives the full summary.
func (v *PolicyView) RecordSummary(t ledger.Transfer) *transferpb.Summary {
	s := &transferpb.Summary{Chain: t.Chain, SourceWallet: t.Source, Destination: t.To, Asset: t.Asset, Amount: t.Amount,
		DestinationClass: "external"}
	if w, ok := v.Wallets[t.Source]; ok {
		s.SourceClass, s.SourceAddress, s.Network = string(w.Class), w.Address(), w.Network
	}
	if w, ok := v.ByAddr[addrKey(t.Chain, t.To)]; ok {
		s.DestinationWallet, s.DestinationClass = w.ID, string(w.Class)
	}
	return s
}
