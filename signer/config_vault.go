package signer

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cofferhq/coffer/hsm/vault"
)

// A node's Vault token is its HSM and PIN in one network bearer
// credential, and whoever runs that Vault (its admins, the holders of its
// unseal or recovery keys with its storage) can mint one. One Vault is one
// trust domain: if it holds the keys of more than t members of a key's
// committee, it alone unseals t+1 shares and rebuilds the key.
//
// A node cannot see the other members' keystores, so the member list says
// where each member's keys are (members[].vault: the address of the Vault
// that holds them, empty for an HSM), and the node checks what it can:
//
//   - at start, that its own entry tells the truth (it names this node's
//     Vault, or no Vault for a PKCS#11 node), and that no Vault holds the
//     keys of more than min_threshold members (the smallest t the
//     cluster's keys use, default 1);
//   - at every keygen and reshare, with the session's own threshold, that
//     no Vault holds the keys of more than t members of the new committee.
//
// Every node validates its own entry the same way, so with one member list
// across the cluster every Vault member is declared. Addresses are
// compared as vault.TrustDomain (scheme, host, port): two names of one
// server are not recognized as one.

// DefaultMinThreshold is min_threshold when the config leaves it out: at
// most one member per Vault.
const DefaultMinThreshold = 1

// vaultMembers maps each Vault trust domain the member list declares to
// the IDs of the members whose keys it holds, sorted. Entries that are
// not Vault addresses are left out (vaultLayoutProblems reports them).
func (c *Config) vaultMembers() map[string][]string {
	out := map[string][]string{}
	for _, m := range c.Members {
		if m.Vault == "" {
			continue
		}
		if d, err := vault.TrustDomain(m.Vault); err == nil {
			out[d] = append(out[d], m.ID)
		}
	}
	for _, ids := range out {
		sort.Strings(ids)
	}
	return out
}

// vaultLayoutProblems checks the members' declared Vaults against this
// node's keystore and min_threshold.
func (c *Config) vaultLayoutProblems() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	t := c.MinThreshold
	switch {
	case t == 0: // a config built in code, without defaults
		t = DefaultMinThreshold
	case t < 0:
		bad("min_threshold: %d; t is at least 1 (t+1 nodes sign)", t)
	}
	for i, m := range c.Members {
		if m.Vault != "" {
			if _, err := vault.TrustDomain(m.Vault); err != nil {
				bad("members[%d] (%s): vault: %v", i, m.ID, err)
			}
		}
		if m.ID != c.Node {
			continue
		}
		switch {
		case c.HSM.Backend == BackendVault:
			own, err := vault.TrustDomain(c.HSM.Vault.Address)
			if err != nil {
				continue // hsm.vault.address is reported by HSM.Validate
			}
			if got, _ := vault.TrustDomain(m.Vault); got != own {
				bad("members[%d] (%s): vault: %q, but this node's keys are in the Vault at %s; declare it (vault: %s), so that every node can count the members each Vault holds",
					i, m.ID, m.Vault, own, c.HSM.Vault.Address)
			}
		case m.Vault != "":
			bad("members[%d] (%s): vault: %q, but this node's keys are on hsm.backend %s", i, m.ID, m.Vault, c.HSM.Backend)
		}
	}
	if t >= 1 {
		domains := c.vaultMembers()
		for _, d := range slices.Sorted(maps.Keys(domains)) {
			if ids := domains[d]; len(ids) > t {
				bad("members: the Vault at %s holds the keys of %s: more than min_threshold t=%d; "+
					"its admins, or the holders of its unseal keys with its storage, could unseal t+1 shares and rebuild every key. "+
					"Give each member its own Vault (or an HSM), at most t per Vault",
					d, strings.Join(ids, ", "), t)
			}
		}
	}
	return errs
}

// ErrVaultTrustDomain is returned for a keygen or reshare whose committee
// keeps more than t of its members' keys in one Vault.
var ErrVaultTrustDomain = errors.New("one Vault would hold more than t of the committee's shares")

// checkVaultCommittee refuses a committee with threshold t (t+1 sign) of
// which more than t members, by the member list, keep their keys in one
// Vault.
func (c *Config) checkVaultCommittee(parties []string, t int) error {
	domains := c.vaultMembers()
	for _, d := range slices.Sorted(maps.Keys(domains)) {
		var in []string
		for _, id := range domains[d] {
			if slices.Contains(parties, id) {
				in = append(in, id)
			}
		}
		if len(in) > t {
			return fmt.Errorf("%w: the Vault at %s holds the keys of %s, more than the threshold t=%d (%d sign): its admins alone could rebuild the key",
				ErrVaultTrustDomain, d, strings.Join(in, ", "), t, t+1)
		}
	}
	return nil
}
