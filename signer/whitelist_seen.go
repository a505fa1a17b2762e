package signer

import (
	"fmt"

	"github.com/cofferhq/coffer/signer/gate"
)

// syncWhitelistSeen records this node's first sight of every whitelist
// entry of the newest policy version it holds, and forgets entries that
// version no longer lists. A new entry is first seen now, or when its
// version takes effect if that is later; the gate activates it no earlier
// than that plus the whitelist's active_after, whatever added_at the
// document claims. The genesis policy is the root of trust the operators
// installed and every node checked against the admin quorum: while it is
// the only version, its entries count as seen at the genesis time, so
// they activate at added_at + active_after.
func (n *Node) syncWhitelistSeen() error {
	n.polMu.Lock()
	if n.history == nil {
		n.polMu.Unlock()
		return nil
	}
	head, genesisOnly := n.history.Head(), len(n.history.Versions()) == 1
	n.polMu.Unlock()
	pv, err := gate.NewPolicyView(head.Policy)
	if err != nil {
		return fmt.Errorf("whitelist entries of policy %s: %w", head.Policy.Hash().Short(), err)
	}
	at := n.now()
	if head.EffectiveAt.After(at) {
		at = head.EffectiveAt
	}
	if genesisOnly {
		at = n.genesisAt()
	}
	keys := pv.WhitelistEntries()
	added, err := n.store.MarkWhitelistSeen(keys, at)
	if err != nil {
		return err
	}
	dropped, err := n.store.ForgetWhitelistSeen(keys)
	if err != nil {
		return err
	}
	if added > 0 || dropped > 0 {
		n.log.Info("whitelist entries seen", "policy", head.Policy.Hash().Short(), "new", added, "forgotten", dropped, "seen_at", at)
	}
	return nil
}
