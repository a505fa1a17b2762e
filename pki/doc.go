// Package pki issues and reads Coffer's X.509 certificates.
//
// One cluster CA signs every certificate. A certificate names its holder in
// the Subject CommonName and its role in the first OrganizationalUnit:
// "node" for signer nodes (whose key is the node's HSM identity key), and
// "operator", "officer", "withdrawal" or "auditor" for API clients.
//
// A node does not handshake with its identity key. It presents a
// short-lived certificate for a software TLS key, signed (endorsed) by
// its identity key (Endorse), followed by its identity certificate;
// peers and clients check both (VerifyEndorsed, VerifyNode). The identity
// certificate is not a CA: standard chain building does not accept what
// it signs, so a node can endorse TLS keys for itself only, never issue a
// certificate that another verifier would take for a node or a client.
//
// Invariants: roles are read from verified certificates only; an unknown
// role or a certificate without exactly one role is rejected; an endorsed
// certificate is accepted only for its purpose, within its validity and
// MaxEndorsement, and only under an identity the cluster CA issued
// directly; a revoked serial or key (Revocations) is refused wherever a
// list is checked.
package pki
