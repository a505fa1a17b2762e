package signer

// walletOfKey names a wallet of the active policy that spends with key
// (master or child), if any.
func (n *Node) walletOfKey(key string) (string, bool) {
	pv, err := n.activePolicy(n.now())
	if err != nil {
		return "", false
	}
	for id, w := range pv.Wallets {
		if w.Key == key {
			return id, true
		}
	}
	return "", false
}
