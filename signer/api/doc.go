// Package api serves the node's client API over mutual TLS: the Transfers
// service (withdrawal clients and officers), the Operator service
// (operators and auditors) and the Audit service (auditors), each method
// open only to the certificate roles methodRoles names (fail closed).
//
// It holds no workflow of its own: it checks what a caller may ask, reads
// and maps, and hands the rest to the node through the interfaces in
// deps.go, which the node (package signer, the composition root) fulfils.
// Errors reach clients as clean gRPC statuses; internals stay in the
// node's log.
package api
