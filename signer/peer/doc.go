// Package peer is the node-to-node transport: gRPC over mutual TLS 1.3
// between the members of one cluster.
//
// Invariants:
//   - A connection is accepted only if the peer's certificate chains to the
//     cluster CA, carries the "node" role, names a configured member, and
//     holds exactly that member's configured identity key (pinned, so a
//     certificate the CA issued to anyone else is refused).
//   - The calling node's ID comes from its verified certificate and is
//     handed to the Handler; no message field can claim it.
//   - Messages are bounded in size (MaxMessage) on both ends.
//   - Every outgoing call carries the session's deadline.
package peer
