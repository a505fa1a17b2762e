// Package storecheck checks that a node's store — its one bbolt file,
// holding the replicated ledger and the node's audit log — is whole, before
// the node uses it (`cofferd run`) and on demand on a stopped node
// (`cofferd store check`).
//
// # What is checked
//
//   - The file is as long as its pages reach (a file cut inside live pages
//     is damage, not a runtime fault).
//   - Every page reachable from the newest valid meta page is read, bucket
//     by bucket, then bbolt's own consistency check runs (tx.Check: page
//     types, key order, reachable or freed pages, no double free).
//   - Every audit entry is rehashed, in order, against its stored hash and
//     the latest signed checkpoint (audit.CheckStored).
//   - The latest signed checkpoint agrees with the checkpoint file beside
//     the store (audit.CheckWatermark): a store the disk rolled back to an
//     older transaction is refused, so the node never signs a second root
//     for a size it signed before.
//
// # Invariants
//
//   - A damaged file gives an error, never a crash: reads run with
//     debug.SetPanicOnFault(true) and a recover (Guard), so a fault of the
//     memory-mapped file and a panic of bbolt on a malformed page become a
//     *Damage naming the file.
//   - A *Damage is one line: the file, the bucket or entry, what is wrong,
//     and what to do (restore the node, README "Restoring a node").
//   - The check only reads. It takes the file's exclusive lock, so it
//     refuses a file a running node holds (ErrLocked).
package storecheck
