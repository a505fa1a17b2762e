//go:build linux

package secmem

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// mapping returns the /proc/self/smaps block of the mapping that starts
// at addr, or "" when there is none.
func mapping(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var block strings.Builder
	in := false
	sc := bufio.NewScanner(f)
	prefix := fmt.Sprintf("%x-", addr)
	for sc.Scan() {
		l := sc.Text()
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			if in {
				break
			}
			in = strings.HasPrefix(l, prefix)
		}
		if in {
			block.WriteString(l + "\n")
		}
	}
	return block.String()
}

// TestLockedOffHeap checks the kernel's view of a buffer: its own mapping,
// locked (VmFlags lo) unless RLIMIT_MEMLOCK refused it, marked dd (no
// dump), and gone after Free.
func TestLockedOffHeap(t *testing.T) {
	b, err := New(5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 5000 || cap(b) != 5000 {
		t.Fatalf("len %d cap %d", len(b), cap(b))
	}
	for _, c := range b {
		if c != 0 {
			t.Fatal("not zeroed")
		}
	}
	copy(b, "secret")
	addr := uintptr(unsafe.Pointer(&b[0]))
	smaps := mapping(t, addr)
	if smaps == "" {
		t.Fatal("the buffer is not the start of its own mapping")
	}
	var flags string
	for _, l := range strings.Split(smaps, "\n") {
		if strings.HasPrefix(l, "VmFlags:") {
			flags = l
		}
	}
	if !strings.Contains(flags, " dd") {
		t.Errorf("not excluded from dumps: %q", flags)
	}
	if Locked(b) != strings.Contains(flags, " lo") {
		t.Errorf("Locked %v but %q", Locked(b), flags)
	}
	if os.Geteuid() == 0 && !Locked(b) {
		t.Error("root could not lock 8 KiB")
	}
	n := live()
	Free(b)
	if live() != n-1 {
		t.Fatal("Free kept the mapping")
	}
	if mapping(t, addr) != "" {
		t.Fatal("the mapping is still there after Free")
	}
}

// TestFreeHeap clears a slice New did not make and leaves the rest alone.
func TestFreeHeap(t *testing.T) {
	b := []byte("plaintext")
	n := live()
	Free(b[:4])
	if string(b) != "\x00\x00\x00\x00\x00\x00\x00\x00\x00" || live() != n {
		t.Fatalf("%q", b)
	}
	Free(nil)
	if _, err := New(0); err == nil {
		t.Fatal("New(0) accepted")
	}
}
