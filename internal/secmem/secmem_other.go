//go:build !unix

package secmem

import "fmt"

// New returns a zeroed n-byte heap slice: this platform offers no
// separate locked mapping (SECURITY.md names the Go heap's limits).
func New(n int) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("secmem: size %d", n)
	}
	return make([]byte, n), nil
}

// Locked is false: nothing is locked here.
func Locked([]byte) bool { return false }

// Free clears b.
func Free(b []byte) { clear(b[:cap(b)]) }
