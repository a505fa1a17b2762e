// Package peer is the node-to-node transport: gRPC over mutual TLS 1.3
// between the members of one cluster.
//
// Invariants:
//   - A node handshakes with a software TLS key endorsed by its HSM
//     identity key (signer/tlskey), never with the HSM key itself: no
//     handshake, whoever opens it, costs an HSM operation.
//   - A connection is accepted only if the peer presents a live TLS key
//     endorsed, for this listener's purpose, by an identity certificate
//     that the cluster CA issued, that carries the "node" role, names a
//     configured member and holds exactly that member's configured
//     identity key (pinned, so a certificate the CA issued to anyone else,
//     or a TLS key the member's identity did not sign, is refused), and
//     neither certificate is revoked. Calls re-check the pin and the
//     revocation list.
//   - The calling node's ID comes from its verified certificate and is
//     handed to the Handler; no message field can claim it.
//   - Messages are bounded in size (MaxMessage) on both ends.
//   - Every outgoing call carries the session's deadline.
package peer
