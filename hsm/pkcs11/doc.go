// Package pkcs11 is the hsm.Keystore backend for PKCS#11 tokens
// (github.com/miekg/pkcs11): SoftHSM2 in development and CI, any PKCS#11
// HSM (YubiHSM2, Luna, CloudHSM, …) in production.
//
// A node's token is chosen by label; its user PIN is read from the file or
// environment variable its Config names. The token holds two keys, made by
// Provision (`cofferd hsm init`, `coffer cluster init`):
//
//   - SealKeyLabel (default "coffer-seal"): AES-256; Seal and Open use
//     CKM_AES_GCM with a fresh random 96-bit IV per seal, the caller's AAD
//     and a 128-bit tag. Blob: version ‖ IV ‖ ciphertext ‖ tag. With random
//     IVs one key should seal at most 2^32 blobs (NIST SP 800-38D); a node
//     seals one blob per key share and pre-parameter set, far below that.
//   - IdentityKeyLabel (default "coffer-node"): Ed25519 key pair
//     (CKK_EC_EDWARDS, CKA_EC_PARAMS = OID 1.3.101.112), signing with
//     CKM_EDDSA (pure Ed25519). Identity() is a crypto.Signer usable as
//     the private key of a tls.Certificate and as a note signer.
//
// Invariants:
//
//   - Secret keys are token objects, CKA_PRIVATE, CKA_SENSITIVE and not
//     CKA_EXTRACTABLE. Open refuses keys that are not (hsm.ErrKeyPolicy),
//     refuses an AES key that is not 256 bits, and runs a seal/open and
//     sign/verify self-test, so a node with a wrong token, PIN, key or a
//     mismatched identity pair stops at start with an error naming the
//     token and the key.
//   - The PIN is never logged, formatted, or put in an error: it lives in
//     a type whose String, Format and LogValue say REDACTED.
//   - PKCS#11 sessions are not safe for concurrent use: each operation
//     borrows one of Config.Sessions logged-in sessions from a pool (no
//     login per call). A session on which any call failed is closed, not
//     reused. A separate anchor session holds the login for the
//     Keystore's lifetime.
//   - The module is initialized once per process, whatever the number of
//     Keystores (tokens) opened on it: a refcounted per-module registry,
//     this package's only global, calls C_Initialize on the first Open and
//     C_Finalize after the last Close. Login state is per token and
//     process, so it is refcounted too; a second Keystore on a token that
//     is already logged in must present the same PIN (checked against an
//     HMAC kept in memory), since the token itself no longer checks it.
//   - After Close every operation fails with hsm.ErrClosed; Close waits
//     for running operations first.
//
// Limits: the PKCS#11 calls cannot be interrupted, so a context only bounds
// the wait for a free session. miekg/pkcs11 copies decrypted plaintext out
// of a C buffer that it frees without zeroing. Some FIPS-mode HSMs insist
// on generating the GCM IV themselves; Seal records the IV the module
// reports back, but modules that reject a caller IV are not supported yet.
package pkcs11
