// Package bench measures Coffer against the raw library: signing with
// tss-lib in one process (in-memory routing, the library's own test
// harness style) and through a running cluster, on the same key and the
// same digests, in one run.
package bench
