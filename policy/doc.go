// Package policy is Coffer's pure policy engine: it loads and validates a
// policy document, computes its content hash, decides whether a transfer
// request may be signed (Evaluate) and governs policy versions (History).
//
// Every signer node runs Evaluate on its own state before it joins a signing
// session, so the package keeps these invariants:
//
//   - Pure: it imports nothing of the project's, performs no I/O and reads no
//     clock. Documents are loaded from bytes; time is always an input.
//   - Deterministic: the same policy, state, request and time give the same
//     Decision, including its trace, on every node. No map iteration order
//     reaches a decision or a trace; every set is sorted, and the order of the
//     slices in a Snapshot does not matter.
//   - Fail closed: the zero Effect is deny; a malformed request, an unknown
//     wallet, asset or address kind, missing state the policy needs and a
//     frozen cluster all deny. A denial is a
//     Decision, never an error.
//   - Invariants first, deny wins: cold and SAFU wallets pay only to their
//     pinned own wallets; ETH transactions are plain value transfers or an
//     ERC-20 transfer(address,uint256) that matches the request; fees are
//     bounded (below); chain and network must match. Then the first
//     matching rule applies; no match denies.
//   - Fees are money leaving the wallet: per chain an absolute cap, a cap
//     relative to the amount (native assets only: a token amount is not
//     comparable with the fee), a btc fee rate ceiling on the signed vsize
//     (a request without one is denied) and an eth priority fee cap; per
//     wallet, fee budgets over sliding windows; and a source-scoped limit of
//     the native asset counts every spend's fee. Integer math only.
//   - A spend source that does not hold a window's whole history (a Book
//     pruned or loaded past its start) denies that window's check rather
//     than undercount.
//   - Approvals: an officer counts once across all terms (assignment by
//     deterministic bipartite matching), the initiator never approves its own
//     request, and approvals from outside the group, expired, duplicated or
//     over another request digest do not count. One reject from a member of a
//     veto group denies.
//   - Amounts are non-negative integers in base units, held as math/big values
//     bounded to 256 bits when parsed, so sums never overflow.
//   - Validation reports every problem at once (errors.Join) and refuses
//     unsafe policies: unknown references, k larger than its group, rules
//     that can never match or are shadowed, and any allow or
//     require_approval rule that lets a cold or SAFU wallet pay outside its
//     pinned wallets.
//   - Governance: a version names its parent's hash and needs a quorum of the
//     active version's admins; loosening changes (as classified by Classify)
//     take effect only after the active version's loosen_delay; rollback is
//     refused; any admin can freeze, only a quorum can unfreeze.
package policy
