//go:build unix && !linux

package secmem

func madviseDontDump([]byte) error { return nil }
