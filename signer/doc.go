// Package signer is the Coffer node: the composition root that ties the
// HSM keystore, the ledger, the peer transport and the tss sessions
// together, and serves the peer protocol and the client API.
//
// Its parts live in their own packages and meet only here:
//   - signer/gate builds, decides and reserves transfers (every signer's
//     own check before it unseals);
//   - signer/workflow moves this node's home transfers along;
//   - signer/api serves the client API;
//   - signer/replica runs the replicated log the ledger applies;
//   - signer/peer and signer/tss carry and run the threshold sessions.
//
// What stays here is the wiring (node.go, *_deps.go), the session
// machinery that coordinates and joins threshold sessions (coordinate.go,
// participant.go, prepare*.go), policy governance and the audit log's
// cosigning.
//
// Invariants (DESIGN.md §1):
//   - A node checks every session spec itself: it recomputes the session
//     ID, checks the parties against its own key record and membership,
//     and computes any digest it signs itself. The coordinator is a relay.
//   - There is no raw-digest signing. The only signing entry point in this
//     stage is the self-test, whose digest is SHA-256 over a fixed domain
//     tag, the key ID and a 32-byte nonce, computed by every signer itself
//     (it can never equal a chain sighash); it is off unless the config
//     enables it.
//   - A share is unsealed once per session, in memory only, and zeroed when
//     the session ends. Pre-parameters are taken from the sealed pool once.
//   - A failed HSM, store or peer makes the node refuse, never guess.
package signer
