// Package audit is a node's tamper-evident audit log (DESIGN.md §7): an
// append-only RFC 6962 Merkle log of canonical records in the node's bbolt
// file, checkpoints signed as C2SP signed notes by the node's HSM identity
// key, cosignatures between nodes, proofs for auditors, export to a bundle
// and offline verification of one or several nodes' bundles.
//
// # Invariants
//
//   - Log before sign (DESIGN.md §1.4). Append returns nil only after the
//     bbolt transaction holding the record — together with the checkpoint
//     signed over the new tree — has committed and fsynced. Any error means
//     "not logged": the caller must refuse to sign.
//   - Batches are all or nothing. Concurrent appends share one transaction
//     (group commit: one HSM signature and one fsync per batch); if the HSM
//     or the transaction fails, every caller of the batch gets the error
//     and no record of it is in the file. The in-memory tree advances only
//     after a commit; after a failed commit it is read back from the file,
//     and if that fails the log refuses every append until reopened.
//   - Append-only. The log never rewrites or deletes a leaf or a tree node.
//     Every committed size has a stored signed checkpoint, written in the
//     same transaction as its entries, so the file's tail always matches
//     its latest checkpoint; New refuses a file where it does not
//     (ErrCorrupt), or whose log belongs to another origin or key
//     (ErrIdentity).
//   - Never two roots for one size. After every commit, before it is
//     acknowledged, the latest signed checkpoint is also written to a file
//     beside the store (WatermarkPath: two slots written in turn, in
//     place, each write fsynced, so a torn write leaves the older whole). New refuses a store whose latest checkpoint is smaller than
//     the file's, or of the same size with another root (ErrRollback: the
//     disk rolled the store back), and the committer never signs a size at
//     or below the file's. A missing file is written from the store (WARN
//     on an existing log).
//   - CheckStored (and Log.Verify) rehash every entry in one pass and
//     compare each with its stored hash, every complete subtree with its
//     stored node, and the root with the latest signed checkpoint; load at
//     New does not (it checks the stored compact range only).
//   - Only the HSM signs. Checkpoints are signed by the identity key
//     through hsm.Keystore.Identity(); each signature is verified with the
//     public key before it is stored. No private key is handled here.
//   - A node cosigns a peer's checkpoint only if it extends the last one it
//     cosigned for that peer (a verified RFC 6962 consistency proof); it
//     never cosigns a smaller size or a second root for a size (ErrFork).
//   - Records are canonical: a leaf is exactly EncodeRecord's output, and
//     DecodeRecord accepts nothing else.
//   - Verify trusts only the keys of the trust file; without one it uses
//     the keys the bundles state and the report says so.
//
// # Records (schema version 1)
//
// A Record has a version v, its index in the log, a UTC time, a kind, and
// exactly the body of its kind: policy_activated (policy), key_generated
// and key_reshared (key), transfer_submitted (transfer), approval_recorded
// (approval), decision with its rule trace (decision), session_started
// (session), signature_produced with the transaction hash (signature),
// session_failed with the culprits (failure). See record.go for fields.
// The index inside the leaf lets a verifier name an entry that was
// removed, inserted or reordered.
//
// Canonical encoding: JSON as encoding/json writes the Record struct with
// HTML escaping off — fields in declaration order, no insignificant
// whitespace, empty optional fields omitted (omitempty/omitzero), digests
// and byte strings as lowercase hex, times in UTC as RFC 3339 with
// nanoseconds and no trailing zeros, strings escaped only where
// encoding/json must (\" \\ and U+2028/U+2029; control characters are
// refused). One record is one line of at most MaxRecordSize bytes. The
// Merkle leaf is these bytes; its hash is SHA-256(0x00 ‖ leaf), the tree
// is RFC 6962's (transparency-dev/merkle's rfc6962 hasher).
//
// # Storage (buckets of the node's bbolt file)
//
//	audit/meta         format, origin, verifier key of the log
//	audit/leaves       index (8 bytes, big-endian) → canonical record
//	audit/tree         level (1 byte) ‖ index (8 bytes) → hash of every complete subtree
//	audit/checkpoints  tree size (8 bytes) → signed checkpoint note (+ cosignatures)
//	audit/cosigs       peer origin ‖ 0x00 ‖ size → that peer's checkpoint cosigned by this node
//
// The log keeps the tree's compact range in memory (O(log n) hashes), so
// an append costs O(log n) hashing and writes; proofs read O(log n) stored
// nodes, chosen by transparency-dev/merkle's proof package.
//
// # Checkpoints and cosignatures
//
// A checkpoint is a C2SP tlog-checkpoint — origin "coffer/<cluster>/<node>",
// tree size, base64 root hash — as a signed note
// (golang.org/x/mod/sumdb/note) whose key name is the origin, so
// note.Open verifies it with the node's verifier key alone
// ("origin+keyhash+base64(0x01‖pub)", VerifierKey). A cosignature is
// another node's ordinary Ed25519 note signature line, under its own
// origin, on the same text.
//
// # Bundles
//
// Export writes one node's log as a bundle: a single file of JSON lines.
// Line 1 is the header {"format":"coffer-audit-bundle/v1","origin":…,
// "key":…}; then one {"checkpoint":"<signed note>"} line per stored
// checkpoint (with the cosignatures it collected), one
// {"witnessed":"<signed note>"} line per peer checkpoint this node
// cosigned, then every entry's leaf, one per line, in index order, to the
// end of the file. Bundles of several nodes are verified together.
//
// # Verification
//
// Verify reads each bundle once, decoding entries in parallel; it keeps a
// compact range and compares the root at every signed size, so its cost
// is linear in the entries plus one Ed25519 check per stored checkpoint
// (one per committed batch: a node whose appends never overlap stores one
// per entry). A change is pinned to the entries between two signed sizes,
// to one entry when each was its own batch. What it checks, and how it
// names the first bad entry, is on Verify.
//
// # Lifecycle and performance
//
// New starts the group committer; Close stops it (it does not close the
// bbolt file, which the ledger owns). Benchmarks (go test -bench . in this
// directory): BenchmarkAppend reports appends/s and records per batch, 1
// and 64 goroutines, identity key in memory and in SoftHSM;
// BenchmarkVerify reports the time of Verify over 10,000 and 1,000,000
// entries read from a bundle file; BenchmarkCheckStored the time of
// CheckStored over 1,000,000 entries in the node's file (1.7 s on a
// 2-core machine).
package audit
