//go:build !devclock

package signer

import "time"

// devClockOffset is always 0 in a release build: the node's clock is the
// system's (see devclock.go for development builds).
func devClockOffset() (time.Duration, error) { return 0, nil }
