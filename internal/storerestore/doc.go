// Package storerestore takes consistent snapshots of a node's store and
// puts a snapshot back in place of a damaged store: the way back that
// README "Restoring a node" describes.
//
// # Snapshot
//
// A snapshot is bbolt's consistent copy of the whole file (tx.WriteTo in
// one read transaction): the replicated ledger, the node-local buckets
// and the audit log as of one instant. A running node writes one through
// its operator API (`coffer backup --snapshot`); a stopped node's with
// `cofferd store snapshot`. It holds sealed shares, still sealed by the
// node's HSM, and no secret in plaintext.
//
// # Restore
//
// Restore puts a snapshot back for a stopped node:
//
//   - the snapshot must be whole (storecheck) and the store of this very
//     node: its audit log's origin and key are the node's;
//   - the audit log must reach the checkpoint the node signed last (the
//     checkpoint file beside the store): a snapshot is usually older, so
//     the entries past it are put back from a bundle of the same log (an
//     auditor's export, or the damaged store's own log if it still
//     reads), each checked against the node's own signed checkpoints
//     (audit.RestoreTail). Without them the restore is refused: the node
//     would otherwise sign a second root for a size it signed before;
//   - the damaged store and the raft directory are moved aside, not
//     deleted, and the snapshot takes the store's place atomically. The
//     raft directory must go: raft would start from its own latest
//     snapshot index and skip the log entries between that and the
//     restored ledger. The node then catches up from the cluster's log
//     like a node whose raft state is lost (it neither votes nor
//     bootstraps until it has).
//
// Restore refuses a store a running node holds (its file lock).
package storerestore
