// Package workflow is the transfer lifecycle on one node: a submission
// checked and proposed to the replicated log with this node as its home,
// officers' verdicts verified and recorded, each home request moved
// through its states (pending approval, timelocked, ready, denied,
// expired), its signing session started with a pair of signers, failed
// sessions retried with backoff, and sessions cut by a crash resumed over
// the same transaction. Every signer still runs the gate itself
// (package gate); the workflow only decides when to ask.
package workflow
