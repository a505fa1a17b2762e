// Package review checks a transfer request on the officer's side, without
// trusting the node that shows it: it decodes the intent the node returns,
// rebuilds the transaction from it with chain/btc or chain/eth, compares
// the bytes and sighashes with what the nodes will sign, recomputes the
// request digest the officer signs, and decodes what the transaction does
// from its own bytes. The node's summary is never what an officer reads.
//
// RequestDigest is DESIGN.md §5's request digest; the gate computes it
// with the same function on every node.
package review
