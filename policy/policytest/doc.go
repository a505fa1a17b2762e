// Package policytest holds test helpers for package policy: deterministic
// keys, a baseline policy fixture with request and approval builders,
// random generators for property tests, and the benchmark's large policy.
// It is for tests only; nothing here is secret or suitable for production.
package policytest
