package devcluster

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/signer"
)

// VaultOptions put some nodes' keys in Vault's transit engine instead of a
// SoftHSM token: a cluster may mix backends.
//
// One Vault is one trust domain (SECURITY.md, "Vault backend"): its admins,
// or the holders of its unseal keys with its storage, can act as every
// node whose keys it holds. Init therefore refuses a layout that puts more
// than Threshold nodes on one Vault, and gives each node its own AppRole
// whose policy reaches that node's keys only.
type VaultOptions struct {
	// Servers are the Vaults and the nodes whose keys each holds.
	Servers []VaultServer
	// Mount is the transit mount on every server (default "transit"). Each
	// node's keys are named coffer-seal-ID and coffer-node-ID.
	Mount string
	// Threshold is t of the keys the cluster will make (t+1 sign; default
	// 1): at most t nodes per Vault. The node configs carry it as
	// min_threshold.
	Threshold int
}

// VaultServer is one Vault and the nodes whose keys it holds.
type VaultServer struct {
	// Nodes are node IDs ("node2").
	Nodes []string
	// Admin reaches the server with a token that may create transit keys,
	// ACL policies and AppRole roles (a dev server's root token). Init uses
	// it to provision each node's keys and AppRole; no node config names it.
	Admin vault.Connection
}

// threshold is t, the default applied.
func (o *VaultOptions) threshold() int {
	if o == nil || o.Threshold == 0 {
		return signer.DefaultMinThreshold
	}
	return o.Threshold
}

// checkVaultLayout refuses, before anything is created, a layout that
// names an unknown node, puts a node on two Vaults, or more than t nodes
// on one Vault (servers compared as vault.TrustDomain).
func (o Options) checkVaultLayout() error {
	v := o.Vault
	if v == nil {
		return nil
	}
	t := v.threshold()
	if t < 1 || t >= o.Nodes {
		return fmt.Errorf("cluster init: vault threshold t=%d: want 1..%d (t+1 of %d nodes sign)", t, o.Nodes-1, o.Nodes)
	}
	onDomain := map[string][]string{}
	seen := map[string]bool{}
	var domains []string
	for i, s := range v.Servers {
		d, err := vault.TrustDomain(s.Admin.Address)
		if err != nil {
			return fmt.Errorf("cluster init: vault server %d: %w", i, err)
		}
		if _, ok := onDomain[d]; !ok {
			domains = append(domains, d)
		}
		for _, id := range s.Nodes {
			if !slices.Contains(o.nodeIDs(), id) {
				return fmt.Errorf("cluster init: vault server %s: no node %q in a %d-node cluster", d, id, o.Nodes)
			}
			if seen[id] {
				return fmt.Errorf("cluster init: %s is on two Vault servers", id)
			}
			seen[id] = true
			onDomain[d] = append(onDomain[d], id)
		}
	}
	for _, d := range domains {
		if ids := onDomain[d]; len(ids) > t {
			return fmt.Errorf("cluster init: the Vault at %s would hold the keys of %s: more than t=%d. "+
				"A Vault is one trust domain: its admins, or the holders of its unseal keys with its storage, could unseal t+1 shares "+
				"and rebuild every key. Give each Vault at most %d node(s) (one Vault server per node, or SoftHSM for the others)",
				d, strings.Join(ids, ", "), t, t)
		}
	}
	return nil
}

// nodeIDs are the IDs Init gives the nodes.
func (o Options) nodeIDs() []string {
	ids := make([]string, o.Nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("node%d", i+1)
	}
	return ids
}

// vaultServer returns the server that holds node id's keys, if any.
func (o Options) vaultServer(id string) (VaultServer, bool) {
	if o.Vault == nil {
		return VaultServer{}, false
	}
	for _, s := range o.Vault.Servers {
		if slices.Contains(s.Nodes, id) {
			return s, true
		}
	}
	return VaultServer{}, false
}

// vaultKeys is node id's keystore config on s, logged in with conn.
func (o Options) vaultKeys(id string, conn vault.Connection) vault.Config {
	return vault.Config{Connection: conn, Mount: o.Vault.Mount,
		SealKey: "coffer-seal-" + id, IdentityKey: "coffer-node-" + id}.WithDefaults()
}

// provisionVault creates node id's transit keys on s with the admin
// connection, gives the node its own AppRole (files in ndir), and returns
// the node's identity and its keystore config, which logs in with that
// AppRole only.
func (o Options) provisionVault(ctx context.Context, id, ndir string, s VaultServer, log *slog.Logger) (ed25519.PublicKey, vault.Config, error) {
	admin := o.vaultKeys(id, s.Admin)
	pub, err := vault.Provision(ctx, admin, log)
	if err != nil {
		return nil, vault.Config{}, fmt.Errorf("cluster init %s: %w", id, err)
	}
	auth, err := grantAppRole(ctx, admin, id, ndir, log)
	if err != nil {
		return nil, vault.Config{}, fmt.Errorf("cluster init %s: %w", id, err)
	}
	conn := s.Admin
	conn.Auth = auth
	return pub, o.vaultKeys(id, conn), nil
}

// useVault points a node config at its Vault keys.
func useVault(c *signer.Config, vc vault.Config) {
	c.HSM = signer.HSMConfig{Backend: signer.BackendVault, Vault: vc}
}
