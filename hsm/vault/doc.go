// Package vault is the hsm.Keystore backend on HashiCorp Vault's transit
// secrets engine (github.com/hashicorp/vault/api), for operators who run
// Vault already or whose nodes have no HSM (DESIGN.md §3–§4).
//
// A node's two keys live in one transit mount (Config.Mount, default
// "transit"), made by Provision (`coffer cluster init` for dev clusters;
// signer.ProvisionHSM):
//
//   - SealKey (default "coffer-seal"): type aes256-gcm96. Seal and Open call
//     transit encrypt and decrypt with the caller's AAD as associated_data:
//     AES-256-GCM, a fresh random 96-bit nonce chosen by Vault per seal, a
//     128-bit tag. The AAD is authenticated, exactly as CKM_AES_GCM does it
//     in hsm/pkcs11. (Transit's other way to bind data, a derived key with
//     context = AAD, is not used: it needs a key created with derived=true,
//     makes the AAD a key-derivation input rather than authenticated data,
//     and associated_data is available in every Vault version this backend
//     supports.) Transit's answer vault:v1:base64(nonce ‖ ciphertext ‖ tag)
//     is stored as the hsm/internal/blob format, so a blob of this backend
//     looks like one of the others.
//   - IdentityKey (default "coffer-node"): type ed25519. Identity().Sign
//     calls transit sign with prehashed=false and no signature context:
//     pure Ed25519 over the message, deterministic. Public() is the key's
//     public_key. Each signature is verified locally before it is returned.
//
// Trust: a node's Vault credentials are its HSM and PIN in one network
// bearer credential, and the Vault's admins (or the holders of its unseal
// keys with its storage) can mint them. One Vault is one trust domain
// (TrustDomain): it must hold the keys of at most t members of any key's
// committee, which signer checks from the member list, and each node needs
// its own credentials limited to its own keys (NodePolicy).
//
// Invariants:
//
//   - Keys are never exportable: Open refuses (hsm.ErrKeyPolicy) a key that
//     is exportable, allows plaintext backup, may be deleted, is derived,
//     is of the wrong type, or whose min_decryption_version /
//     min_encryption_version exclude version 1. Blobs carry no key version, so this backend seals,
//     opens and signs with version 1 only: rotating a key in Vault leaves
//     Coffer's blobs openable and changes nothing Coffer does.
//   - Open runs a self-test (seal/open, an open under other associated data
//     that must fail, sign/verify), so a node with a wrong server, token,
//     policy, mount or key, or a Vault that ignores associated_data
//     (ErrAADIgnored: Vault before 1.13), stops at start with an error
//     naming the server, the mount and the key: ErrUnreachable, ErrTLS,
//     ErrSealed, hsm.ErrLogin (token or AppRole refused), ErrPermissionDenied
//     (a *PermissionError naming the policy path and capability to grant),
//     ErrMountNotFound, hsm.ErrKeyNotFound. NodePolicy is the least-privilege
//     policy; it grants no "create", so transit's encrypt can never create a
//     missing seal key.
//   - Open refuses a server with an audit device that logs raw bodies
//     (ErrAuditLogRaw: the shares would be in its log); a token that may
//     not list the devices (sys/audit, read and sudo) gets a warning.
//   - Only a blob Vault refuses to authenticate (HTTP 400: wrong AAD,
//     another key, a modified blob) is hsm.ErrUnseal; a sealed or
//     unreachable Vault keeps its own error, so a node never mistakes an
//     outage for tampering.
//   - Secrets are by reference: the token, or the AppRole role and secret
//     IDs, are read from files or environment variables the config names
//     (a variable is unset as it is read, hsm/internal/envsecret), held in
//     a type that formats and logs as REDACTED, and never put in an error.
//     The Vault client's own VAULT_* environment is ignored.
//   - Transport: plain http is accepted on loopback only (127.0.0.0/8, ::1,
//     localhost); otherwise TLS, verified against Config.CAFile, which is
//     then required (never the system roots). No redirect is followed: a
//     3xx answer is ErrRedirect, so the token and a share never go where a
//     Location points (redirect.go).
//   - AppRole tokens are renewed by logging in again at two thirds of their
//     lifetime and revoked by Close. A given token is used as is (make it
//     periodic and renew it with Vault Agent).
//   - After Close every operation fails with hsm.ErrClosed; Close cancels
//     running requests and waits for them.
//
// Limits: plaintext shares cross the TLS connection to Vault on Seal and
// Open, as they cross the PKCS#11 boundary into an HSM; transit keeps the
// key, not the data. A context bounds a request; Config.Timeout bounds each
// one, retries included.
//
// Client is the authenticated connection the keystore uses; signer/backup
// uses it too, for sealed backups in KV v2.
package vault
