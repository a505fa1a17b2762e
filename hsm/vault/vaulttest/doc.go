// Package vaulttest runs a real Vault server in dev mode for tests: on
// 127.0.0.1, on a free port, with a random root token, writing nothing to
// the home directory (-dev-no-store-token, HOME set to a temp dir), started
// and stopped by PID.
//
// The server binary is built from the Go module proxy by
// scripts/build-vault.sh (`make test` runs it) and found at $COFFER_VAULT_BIN
// or $(go env GOPATH)/bin/vault-<Version>. Tests that need it fail, never
// skip, when it is missing: CI must exercise the real Vault path.
//
// Fake is an in-process stand-in for the transit engine, for behaviours a
// real server cannot be made to show: one that ignores associated data (as
// Vault before 1.13 did), one that answers with redirects.
//
// Invariant: every server Start launched is stopped by Stop (SIGTERM, then
// SIGKILL by PID after a grace period); on Linux the server also receives
// SIGKILL if the test process dies first.
package vaulttest
