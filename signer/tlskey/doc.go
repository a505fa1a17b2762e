// Package tlskey keeps a node's TLS keys out of its HSM.
//
// Each listener of a node (peer, raft, client API) has its own ECDSA P-256
// key, made in memory at start and again at every rotation, and a
// certificate for it signed by the node's HSM identity key (pki.Endorse).
// Handshakes sign with the software key only, so no handshake, from a
// member or from anyone who can reach a port, costs an HSM operation: the
// HSM signs once per key and rotation (three keys, every Lifetime/2).
//
// Invariants:
//   - The private key used in handshakes is never the HSM identity key and
//     never leaves process memory (it is not written, logged or exported).
//   - A certificate is presented only while valid: the key rotates at half
//     its lifetime; a failed rotation keeps the current one and retries,
//     logged, until it expires, after which peers refuse it (fail closed).
//   - Serving a handshake reads the current certificate; it never calls
//     the HSM.
package tlskey
