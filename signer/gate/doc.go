// Package gate is the check every signer makes itself before it unseals a
// share (DESIGN.md §5 step 5): rebuild the transaction from the stored
// intent, recompute the request digest, evaluate the policy on this
// node's own state and clock, and reserve what an allowed transfer spends
// through the replicated log. The caller then logs the decision durably
// and only then unseals.
//
// A decision reads the limit totals from a spend book the ledger keeps up
// to date as it applies reservations (spends.go), never the history, and
// names the log index it read at; the log refuses a reservation made on a
// state another spend changed since, and the gate decides again.
package gate
