//go:build unix

package secmem

import (
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// region is one mapping New made: its whole pages, and whether mlock
// succeeded.
type region struct {
	pages  []byte
	locked bool
}

var (
	mu      sync.Mutex
	regions = map[uintptr]region{} // by the address of the first byte
)

// New returns a zeroed n-byte slice (n > 0) in its own anonymous mapping,
// locked into RAM where RLIMIT_MEMLOCK allows, and excluded from core
// dumps. Its capacity is exactly n, so appending past it copies the data
// to the heap: fill it, do not grow it. Free it with Free.
func New(n int) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("secmem: size %d", n)
	}
	page := unix.Getpagesize()
	pages, err := unix.Mmap(-1, 0, (n+page-1)/page*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("secmem: map %d bytes: %w", n, err)
	}
	_ = madviseDontDump(pages) // best effort: the process is not dumpable anyway
	r := region{pages: pages, locked: unix.Mlock(pages) == nil}
	mu.Lock()
	regions[uintptr(unsafe.Pointer(&pages[0]))] = r
	mu.Unlock()
	return pages[:n:n], nil
}

// Locked reports whether b (from New) is locked into RAM.
func Locked(b []byte) bool {
	if cap(b) == 0 {
		return false
	}
	mu.Lock()
	defer mu.Unlock()
	return regions[uintptr(unsafe.Pointer(unsafe.SliceData(b)))].locked
}

// Free clears b. If b came from New (same first byte), its whole mapping
// is cleared, unlocked and unmapped, and b must not be used again; any
// other slice is only cleared, so Free is safe on plaintext from anywhere.
func Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	clear(b[:cap(b)])
	key := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	mu.Lock()
	r, ok := regions[key]
	delete(regions, key)
	mu.Unlock()
	if !ok {
		return
	}
	clear(r.pages)
	if r.locked {
		_ = unix.Munlock(r.pages)
	}
	if err := unix.Munmap(r.pages); err != nil {
		panic(fmt.Sprintf("secmem: unmap: %v", err)) // the mapping is ours: cannot happen
	}
}

// live is the number of mappings not yet freed (tests).
func live() int {
	mu.Lock()
	defer mu.Unlock()
	return len(regions)
}
