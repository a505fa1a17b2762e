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
//     a blob sealed by another keystore, or with a modified blob fails with
//     ErrUnseal and returns no plaintext.
//   - Two seals of the same plaintext differ (fresh nonce per seal).
//   - The identity signer never exposes private key material; its public key
//     is an ed25519.PublicKey and its signatures verify with ed25519.Verify.
//   - After Close every operation fails with ErrClosed.
//
// Backends: hsm/pkcs11 (any PKCS#11 token; SoftHSM2 in development and CI).
package hsm
