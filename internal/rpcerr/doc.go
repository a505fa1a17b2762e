// Package rpcerr gives every failed gRPC call a correlation reference.
//
// A client or peer sees the reference with the error; the server's log
// holds the reference with the whole error, the method and the caller.
// Errors whose text may carry internals (codes Internal, Unknown,
// DataLoss: store errors, token labels, paths) reach the caller as a fixed
// sentence and the reference only.
package rpcerr
