// Package backup copies a stopped node's sealed secrets (its key records
// with their sealed shares, and its pool of sealed tss-lib pre-parameters)
// into Vault's KV version 2 engine, and restores them into a fresh node
// store. `coffer backup` and `coffer restore` drive it.
//
// A backup is one KV v2 secret at vault://MOUNT/PATH; each backup is a new
// version of it, so earlier ones stay readable until Vault's max_versions
// prunes them. The secret's data is a Document (format coffer/backup/v1).
// `coffer backup` writes it to a Vault of its own, never to the one that
// holds the node's seal key (SECURITY.md, "Vault backend").
//
// Invariants:
//
//   - Nothing is unsealed, to back up or to restore: blobs go to Vault and
//     come back exactly as the node's HSM sealed them. Vault's KV engine
//     never sees a plaintext share.
//   - A blob opens only on the node, key and generation that sealed it:
//     the AAD (signer/seal.go) binds the cluster, the node, the key ID and
//     generation, and the seal key is the node's own HSM key. Restore also
//     refuses a backup whose cluster or node differs from the target's, but
//     that check is a convenience: a backup edited in Vault to claim
//     another node still fails to unseal there.
//   - Nothing is half-written: a backup is one KV write; a restore first
//     reads and checks the whole document (format, digest, every record),
//     then writes it into the store in one transaction, which refuses a
//     store that already holds keys or pre-parameters (ledger.ErrNotFresh).
//   - The digest in a Document detects accidental damage; it is no
//     signature. Integrity against an attacker comes from the AAD above.
package backup
