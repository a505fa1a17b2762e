// Package pki issues and reads Coffer's X.509 certificates.
//
// One cluster CA signs every certificate. A certificate names its holder in
// the Subject CommonName and its role in the first OrganizationalUnit:
// "node" for signer nodes (whose key is the node's HSM identity key), and
// "operator", "officer", "withdrawal" or "auditor" for API clients.
//
// Invariants: roles are read from verified certificates only; an unknown
// role or a certificate without exactly one role is rejected.
package pki
