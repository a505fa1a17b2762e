//go:build !linux

package harden

import "errors"

// Report is the process state Process left.
type Report struct {
	CoreLimit uint64
	Dumpable  bool
}

// Process refuses on platforms where Coffer does not know how to keep
// core dumps and memory readers out: fail closed.
func Process() (Report, error) {
	return Report{}, errors.New("harden: no core-dump and ptrace protection on this platform")
}

// Read is Process's read-back; see Process.
func Read() (Report, error) { return Process() }
