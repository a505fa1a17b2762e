//go:build !hostile

package tss

// WithholdsLastRound is false in every release build: only a test build
// (-tags hostile, hostile.go) plays a compromised node.
func WithholdsLastRound() bool { return false }
