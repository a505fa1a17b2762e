//go:build hostile

package tss

import "os"

// HostileEnv turns a test build (-tags hostile) into a compromised node:
// "withhold-last-round" keeps this node's share of the last signing round
// from the other parties, so it alone can finish the signature. Release
// builds have no such switch (hostile_off.go).
const HostileEnv = "COFFER_HOSTILE"

// WithholdsLastRound reports whether this build withholds its last-round
// share.
func WithholdsLastRound() bool { return os.Getenv(HostileEnv) == "withhold-last-round" }
