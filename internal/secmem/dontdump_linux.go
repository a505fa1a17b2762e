//go:build linux

package secmem

import "golang.org/x/sys/unix"

func madviseDontDump(b []byte) error { return unix.Madvise(b, unix.MADV_DONTDUMP) }
