// Package tokensigner is a crypto.Signer over an officer's (or admin's)
// private key kept on a PKCS#11 token (github.com/miekg/pkcs11): the key
// that signs transfer approvals ("coffer/approval/v1" ‖ digest ‖ verdict,
// DESIGN.md §5) and policy signatures. It is for client tools such as
// `coffer approve`; a node's own keys live behind hsm.Keystore
// (hsm/pkcs11).
//
// The key is found by label: exactly one private key object and one public
// key object on the token carry Config.KeyLabel. Supported keys, matching
// what policy.PublicKey verifies:
//
//   - Ed25519 (CKK_EC_EDWARDS, CKA_EC_PARAMS = OID 1.3.101.112 or the
//     name "edwards25519"): Sign takes the message itself with
//     crypto.Hash(0) and signs it with CKM_EDDSA (pure Ed25519);
//   - ECDSA P-256 (CKK_EC, CKA_EC_PARAMS = OID prime256v1): Sign takes a
//     SHA-256 digest with crypto.SHA256, signs it with CKM_ECDSA and returns
//     the ASN.1 DER signature crypto/ecdsa and policy verify.
//
// Invariants:
//
//   - The PIN comes from an environment variable named in Config, never
//     from a literal value; it is used for C_Login only and never appears in
//     an error, a log line or a formatted value.
//   - The private key must be a private, sensitive, non-extractable token
//     object allowed to sign (hsm.ErrKeyPolicy otherwise): the key never
//     leaves the token.
//   - Every signature is verified with the public key before it is
//     returned, and Open signs and verifies a test message, so a private key
//     paired with another key's public object (ErrKeyMismatch) or a faulty
//     module never yields a signature that does not verify.
//   - Sign calls are serialized on one logged-in session (PKCS#11 sessions
//     are not safe for concurrent use). After Close, Sign fails with
//     hsm.ErrClosed; Public still answers.
//
// Limits: a Signer initializes the module for itself and finalizes it at
// Close. If the module is already initialized in the process, the Signer
// uses it without finalizing it, and if that process already logged in to
// the token the PIN is not checked again. A process holds one Signer per
// module at a time (the CLI holds one).
package tokensigner
