//go:build linux && !cgo

package harden

// clearCHeap has nothing to do without cgo: there is no C heap holding
// plaintext (and no PKCS#11 binding).
func clearCHeap() error { return nil }
