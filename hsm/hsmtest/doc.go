// Package hsmtest holds what tests need of package hsm:
//
//   - Run, the conformance suite every hsm.Keystore backend passes (the
//     invariants listed in package hsm), run by each backend's tests;
//   - Memory, an in-memory software Keystore (AES-256-GCM from
//     crypto/cipher, an ed25519 key) for other packages' unit tests. It
//     passes Run. It keeps keys in process memory: never use it outside
//     tests;
//   - Counting, a wrapper of any Keystore that counts its operations and
//     tells apart identity signatures over a TLS handshake.
//
// Invariant: Memory writes the same blob format as hsm/pkcs11 (see
// hsm/internal/blob), so code under test sees realistic blobs.
package hsmtest
