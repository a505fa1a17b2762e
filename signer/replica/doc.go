// Package replica replicates the node's ledger with hashicorp/raft: the
// ledger's commands are the raft log, and ledger.Store.ApplyIndexed is the
// state machine on every node, in log order (DESIGN.md §10).
//
// Raft tolerates crashes, not liars, and a compromised node may become
// leader. So nothing in the log is taken on the leader's word:
//
//   - Every entry is signed by the node that proposed it, with its HSM
//     identity key, over the cluster name, the node, the node's sequence
//     number and the command. The state machine verifies the signature
//     against the membership and refuses, as a deterministic no-op logged
//     the same way on every node, an entry that is malformed, unsigned,
//     signed by a non-member, names another proposer than its signer, or
//     replays a sequence number (ledger.Origin).
//   - The ledger then checks the proposer's authority over the command:
//     only a transfer's home node submits it and moves its state, an
//     officer's approval is recorded only with a signature that verifies
//     against the policy the transfer was submitted under, and a node
//     reserves, releases and completes only as itself. A spend counts
//     while any node holds a reservation for it, so whatever a compromised
//     node puts in the log can only tighten what the others see.
//   - A proposer learns the outcome of its entry from its own state
//     machine, never from the leader's answer.
//
// Raft traffic runs over mutual TLS 1.3 with raft TLS keys that the
// nodes' HSM identity keys endorse, and pinned members (the peer
// transport's TLS configuration), on a listener of its own that bounds
// each source's connections and handshakes; there is no plaintext port.
// A leader can delay or drop entries (signing then stops: fail closed),
// never forge them.
//
// Snapshots carry only the replicated buckets (ledger.Snapshot); a node's
// sealed shares, pre-parameter pool and audit log never leave it.
package replica
