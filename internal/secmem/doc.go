// Package secmem gives plaintext secrets that Coffer encodes itself (a
// share or pre-parameters on their way into the HSM) a buffer outside the
// Go heap: mapped on its own, locked into RAM where the platform allows
// (so it is never written to swap), left out of core dumps, and cleared
// and unmapped when freed. The garbage collector neither copies nor
// keeps it, and nothing else ever reuses its pages while it lives.
//
// tss-lib's own integers live on the Go heap and cannot be placed here;
// SECURITY.md says what protects them (no swap, no dumps, limb zeroing).
package secmem
