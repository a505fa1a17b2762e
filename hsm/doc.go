// Package hsm defines the Keystore a signer node keeps its secrets behind.
//
// A Keystore holds two non-extractable keys (DESIGN.md §4):
//
//   - the sealing key (AES-256-GCM) that wraps key shares and tss-lib
//     pre-parameters before they reach the node's store, and
//   - the node identity key (Ed25519) that authenticates the node on the
//     peer transport and signs its audit checkpoints.
//
// Invariants every backend keeps (hsm/hsmtest checks them):
//
//   - Seal binds the caller's associated data: Open with any other AAD, with
//     a blob sealed by another keystore, or with a modified, truncated or
//     malformed blob fails with an error wrapping ErrUnseal (malformed blobs
//     also match ErrMalformedBlob) and returns no plaintext. ErrUnseal is
//     the tamper signal: a failure of the HSM itself (removed, session
//     lost, device error, unreachable) never wraps it (hsm/pkcs11 wraps
//     ErrUnavailable; hsm/vault keeps its own errors).
//   - Two seals of the same plaintext differ (fresh nonce per seal).
//   - The identity signer never exposes private key material; its public key
//     is an ed25519.PublicKey and its signatures verify with ed25519.Verify.
//   - The identity signer accepts only pure Ed25519 options (crypto.Hash(0),
//     or *ed25519.Options with no hash and no context) and is deterministic.
//   - A canceled context fails Seal and Open with the context's error.
//   - After Close every operation, and a second Close, fails with
//     ErrClosed; Identity().Public() still answers.
//
// Backends: hsm/pkcs11 (any PKCS#11 token; SoftHSM2 in development and CI,
// driven by hsm/softhsm), hsm/vault (Vault transit: an aes256-gcm96 key with
// associated data, an ed25519 identity key), and hsmtest.Memory for other packages' unit tests.
// All of them write the blob format of hsm/internal/blob and pass
// hsmtest.Run.
package hsm
