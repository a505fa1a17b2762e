//go:build devclock

package signer

import (
	"fmt"
	"os"
	"time"
)

// devClockEnv moves a development build's policy clock (timelocks,
// windows, expiries, audit times) by a Go duration, so an end-to-end test
// can let hours pass. Only binaries built with -tags devclock read it;
// TLS validity always uses the wall clock.
const devClockEnv = "COFFER_DEV_CLOCK_OFFSET"

func devClockOffset() (time.Duration, error) {
	v := os.Getenv(devClockEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", devClockEnv, err)
	}
	return d, nil
}
