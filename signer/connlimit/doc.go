// Package connlimit bounds what one network source can make a listener
// hold: a net.Listener wrapper that refuses, per source IP address, a
// connection over a number of concurrent connections or over a rate of new
// connections (each of which costs a TLS handshake).
//
// Invariants:
//   - A refused connection is closed before any byte is read or written:
//     it costs no handshake and no HSM operation.
//   - One source's connections and handshakes never count against
//     another's; a source's open connections keep working when its new
//     ones are refused.
//   - Refusals are logged at a bounded rate (at most one line a second,
//     with the count of those not logged), so a flood cannot flood the log.
//   - The per-source table holds only sources with open connections or a
//     rate limiter not yet refilled; idle sources are forgotten.
package connlimit
