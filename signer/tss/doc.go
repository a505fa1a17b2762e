// Package tss adapts bnb-chain/tss-lib v3 (GG18/GG20 ECDSA on secp256k1) to
// Coffer's sessions: distributed keygen, signing with any t+1 parties
// (optionally on a non-hardened child key), and resharing to a new
// committee or threshold with the public key unchanged.
//
// A Session drives the node's local tss-lib parties. It is transport
// agnostic: outgoing wire messages go to a Transport, incoming ones arrive
// through Deliver, which checks that the sender's party key belongs to the
// authenticated sending node and that every destination is a local party.
//
// Invariants:
//   - Party keys are derived from (key ID, generation, node), so the old
//     and new committees of a reshare never share a party key and a node
//     can only speak for its own parties.
//   - A peer message that is malformed, oversized, addressed to a party
//     the node does not run, or sent for another party aborts only its
//     session, naming the sender; nothing panics (tss-lib is called under
//     recover).
//   - The plaintext share lives in memory for the session only; Share.Zero
//     overwrites its secret integers when the session ends.
//   - tss-lib's constant-time arithmetic is switched on when this package
//     is loaded, and no session starts while it is off (ErrVariableTime).
//   - Every session sets a tss-lib session nonce that each party derives
//     itself (nonce.go), never one a peer chose: a party on another nonce
//     fails the others' proof checks and is named.
//   - Hardened derivation is refused: a threshold key has no private
//     parent key to derive hardened children from.
package tss
