package devcluster

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cofferhq/coffer/hsm/vault"
	"github.com/cofferhq/coffer/signer"
)

// VaultOptions put some nodes' keys in Vault's transit engine instead of a
// SoftHSM token: a cluster may mix backends.
type VaultOptions struct {
	// Nodes are the IDs ("node2") of the nodes on Vault.
	Nodes []string
	// Connection is how those nodes reach and log in to Vault. Its token
	// must be allowed to create the keys (Init provisions them) and to use
	// them.
	Connection vault.Connection
	// Mount is the transit mount (default "transit"). Each node's keys are
	// named coffer-seal-ID and coffer-node-ID.
	Mount string
}

// vaultConfig is the keystore config of node id when it is on Vault.
func (o Options) vaultConfig(id string) (vault.Config, bool) {
	if o.Vault == nil || !slices.Contains(o.Vault.Nodes, id) {
		return vault.Config{}, false
	}
	return vault.Config{Connection: o.Vault.Connection, Mount: o.Vault.Mount,
		SealKey: "coffer-seal-" + id, IdentityKey: "coffer-node-" + id}.WithDefaults(), true
}

// provisionVault creates a node's transit keys and returns its identity.
func provisionVault(ctx context.Context, id string, vc vault.Config, log *slog.Logger) (ed25519.PublicKey, error) {
	pub, err := vault.Provision(ctx, vc, log)
	if err != nil {
		return nil, fmt.Errorf("cluster init %s: %w", id, err)
	}
	return pub, nil
}

// useVault points a node config at its Vault keys.
func useVault(c *signer.Config, vc vault.Config) {
	c.HSM = signer.HSMConfig{Backend: signer.BackendVault, Vault: vc}
}
