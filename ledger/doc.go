// Package ledger is a node's durable state in one bbolt file: the key
// registry (key ID, public key, committee, threshold, this node's sealed
// share), a pool of sealed tss-lib pre-parameters, and the transfer state
// machine: requests, officer approvals, reservations and signing results.
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
//
// Transfer state machine (DESIGN.md §5):
//   - Every change to a transfer is a Command, and Store.Apply is the only
//     writer of the transfer buckets (transfers, transfers_by_time,
//     reservations, spends, commands). Apply validates the command, changes
//     the transfer and its indexes, and appends the command to the log in one
//     bbolt transaction: a refused or failed command changes nothing and
//     logs nothing. A command that would change nothing (a repeated submit,
//     verdict, set_state, reservation or completion) is not logged either.
//   - Apply is deterministic: it reads no clock and no randomness (time is
//     Command.At, decided by the proposer) and iterates no maps, so the same
//     command sequence from an empty store gives byte-identical buckets, and
//     replaying Commands() rebuilds the state. This is what a raft FSM needs.
//   - A request ID names one intent for ever: resubmitting the same digest
//     and intent returns the stored transfer (with its result once signed);
//     anything else under that ID is ErrConflict.
//   - set_state follows the transition table in transitions.go. Only reserve
//     leads to signing, only complete to signed, only release to failed;
//     signed, denied and expired are final. Nothing becomes ready or is
//     reserved before NotBefore, nor reserved at or after ExpiresAt.
//   - Exactly once: an outpoint or nonce key is held by at most one transfer
//     (the reservations index). Release by the owning session frees it;
//     completion consumes it for ever. A transfer has at most one live
//     session and is signed at most once.
//   - A reservation's spend counts in Spends() from reserve until release,
//     and for ever once signed. A transfer denied or expired while signing
//     keeps its reservation and spend (a signature may exist): fail closed.
package ledger
