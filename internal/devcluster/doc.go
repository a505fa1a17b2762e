// Package devcluster creates and runs a development cluster on one
// machine: a cluster CA, one SoftHSM2 token per node with its keys
// provisioned through hsm/pkcs11, node certificates over the HSM identity
// keys, an operator client certificate, ready-to-run node configs, and the
// cofferd processes themselves (started and stopped by PID).
//
// Nodes may instead keep their keys in Vault transit (VaultOptions): at
// most t nodes per Vault server, each node with its own AppRole whose
// policy reaches its own keys only (vault.NodePolicy); Init refuses any
// other layout before it creates anything.
//
// It is for development, the demo, benchmarks and tests: PINs, AppRole
// role and secret IDs and the CA key are written to files (mode 0600) in
// the cluster folder, which a production deployment never does.
//
// All tokens live in one SoftHSM2 token directory, because SoftHSM reads
// its configuration once per process and the tools that inspect several
// nodes (tests, the benchmark) open several tokens from one process.
package devcluster
