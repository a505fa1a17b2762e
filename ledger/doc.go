// Package ledger is a node's durable state in one bbolt file: the key
// registry (key ID, public key, committee, threshold, this node's sealed
// share) and a pool of sealed tss-lib pre-parameters.
//
// Invariants:
//   - The store only ever holds sealed secrets: shares and pre-parameters
//     arrive here already encrypted by the node's HSM (hsm.Keystore.Seal)
//     and leave sealed. The ledger never sees plaintext.
//   - Every write is one bbolt transaction, fsynced before it returns.
//   - A pre-parameter set is handed out at most once (TakePreParams deletes
//     it in the same transaction that reads it).
//   - Key records are written once per generation: PutKey refuses an
//     existing key, Reshare replaces generation g only with g+1.
//   - bbolt's file lock keeps a second process off the same file.
package ledger
