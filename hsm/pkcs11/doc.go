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
//   - Secret keys were generated in the token and can never leave it:
//     token objects, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, and
//     CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE (which only
//     the token sets), with CKA_UNWRAP and CKA_DERIVE off (and CKA_WRAP,
//     on the seal key; private keys have none). A key imported with a
//     known value passes the first four checks, not the last ones. Open
//     refuses a key that breaks any rule (hsm.ErrKeyPolicy, naming every
//     attribute that is wrong), refuses an AES key that is not 256 bits,
//     and runs a seal/open and sign/verify self-test, so a node with a
//     wrong token, PIN, key or a mismatched identity pair stops at start
//     with an error naming the token and the key.
//   - The PIN is not tried when the token reports it locked
//     (CKF_USER_PIN_LOCKED, ErrPINLocked) or at its last attempt
//     (CKF_USER_PIN_FINAL_TRY, ErrPINFinalTry): a node restarting in a
//     loop with a wrong PIN must not lock the token. A low count
//     (CKF_USER_PIN_COUNT_LOW) is logged as a warning.
//   - hsm.ErrUnseal (tampering) is reported only when the token worked and
//     the blob did not authenticate: CKR_ENCRYPTED_DATA_INVALID,
//     CKR_ENCRYPTED_DATA_LEN_RANGE, or a CKR_GENERAL_ERROR or
//     CKR_FUNCTION_FAILED while the token still opens the self-test blob.
//     A token removed, a session or login lost, or a failing device is
//     ErrTokenNotPresent, ErrSessionLost, ErrNotLoggedIn or ErrDevice
//     (all hsm.ErrUnavailable).
//   - When an operation finds the sessions or the login gone (the token
//     was pulled out and is back, or its sessions were closed), the
//     keystore finds the token again, logs in again (PIN flags checked
//     first), checks both keys again and that they are the keys it was
//     opened with, and runs the operation once more: one retry per
//     operation, at most one relogin attempt per second after a failure,
//     and none at all after the token refused the PIN or came back with
//     other keys (the node must then be restarted).
//   - The PIN is never logged, formatted, or put in an error: it lives in
//     a type whose String, Format and LogValue say REDACTED.
//   - PKCS#11 sessions are not safe for concurrent use: each operation
//     borrows one of Config.Sessions logged-in sessions from a pool (no
//     login per call). A session on which any call failed is closed, not
//     reused. A separate anchor session holds the login; a relogin
//     replaces it, and sessions opened under the old login are closed
//     when they come back to the pool.
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
// the wait for a free session. A session handle of a lost login is closed
// when it is dropped; a module that reused handle numbers at once could
// see another session of this process closed (SoftHSM never reuses them). miekg/pkcs11 copies decrypted plaintext out
// of a C buffer that it frees without zeroing. Some FIPS-mode HSMs insist
// on generating the GCM IV themselves; Seal records the IV the module
// reports back, but modules that reject a caller IV are not supported yet.
package pkcs11
