package storecheck

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Guard runs fn, which reads the memory-mapped file at path, with memory
// faults turned into panics (debug.SetPanicOnFault, for this goroutine
// only) and recovers any panic — a fault past the end of a cut file, a
// wild page pointer, bbolt's own panic on a malformed page — as a *Damage
// naming the file and where(), the place being read when it happened.
// Goroutines fn starts are not covered.
func Guard(path string, where func() string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		w := ""
		if where != nil {
			w = where()
		}
		err = &Damage{File: path, Where: w, Detail: "reading it failed (" + oneLine(fmt.Sprint(r)) + ")"}
	}()
	return fn()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
