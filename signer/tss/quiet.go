package tss

import golog "github.com/ipfs/go-log"

// QuietLibrary turns tss-lib's own logger down to errors: it logs every
// round at info level. The node logs sessions and culprits itself.
func QuietLibrary() { _ = golog.SetLogLevel("tss-lib", "error") }
