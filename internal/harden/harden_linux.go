//go:build linux

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Report is the process state Process left, read back from the kernel.
type Report struct {
	CoreLimit uint64 // RLIMIT_CORE, soft and hard (both 0)
	Dumpable  bool   // PR_GET_DUMPABLE
}

// Process sets the core-file size limit to 0 (soft and hard: it cannot be
// raised again without privilege) and marks the process not dumpable,
// makes the C heap overwrite what it frees (clearCHeap), then reads the
// first two back; any failure is an error and the node does not
// start.
func Process() (Report, error) {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return Report{}, fmt.Errorf("harden: set RLIMIT_CORE to 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return Report{}, fmt.Errorf("harden: PR_SET_DUMPABLE 0: %w", err)
	}
	if err := clearCHeap(); err != nil {
		return Report{}, err
	}
	return Read()
}

// Read reports the current core limit and dumpable flag, and fails when
// either lets a dump or a peek through.
func Read() (Report, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		return Report{}, fmt.Errorf("harden: read RLIMIT_CORE: %w", err)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return Report{}, fmt.Errorf("harden: PR_GET_DUMPABLE: %w", err)
	}
	r := Report{CoreLimit: max(lim.Cur, lim.Max), Dumpable: d != 0}
	if r.CoreLimit != 0 || r.Dumpable {
		return r, fmt.Errorf("harden: core limit %d, dumpable %v: want 0 and false", r.CoreLimit, r.Dumpable)
	}
	return r, nil
}
