package connlimit

import (
	"errors"
	"fmt"
)

// Defaults: generous for the members and clients of one cluster (tests
// open hundreds of connections from 127.0.0.1), tight enough that one
// source cannot hold a listener's file descriptors or CPU.
const (
	DefaultMaxConnsPerSource   = 256
	DefaultHandshakesPerSecond = 50
	DefaultHandshakeBurst      = 200
)

// Config bounds each source IP address on one listener.
type Config struct {
	// MaxConnsPerSource is the number of connections one source may hold
	// open at once.
	MaxConnsPerSource int `yaml:"max_conns_per_source,omitempty"`
	// HandshakesPerSecond is the sustained rate of new connections (TLS
	// handshakes) one source may open.
	HandshakesPerSecond float64 `yaml:"handshakes_per_second,omitempty"`
	// HandshakeBurst is how many new connections a source may open at once
	// above that rate.
	HandshakeBurst int `yaml:"handshake_burst,omitempty"`
}

// WithDefaults fills the fields left at zero.
func (c Config) WithDefaults() Config {
	if c.MaxConnsPerSource == 0 {
		c.MaxConnsPerSource = DefaultMaxConnsPerSource
	}
	if c.HandshakesPerSecond == 0 {
		c.HandshakesPerSecond = DefaultHandshakesPerSecond
	}
	if c.HandshakeBurst == 0 {
		c.HandshakeBurst = DefaultHandshakeBurst
	}
	return c
}

// Validate reports every field outside its range.
func (c Config) Validate() error {
	var errs []error
	if c.MaxConnsPerSource < 1 || c.MaxConnsPerSource > 65536 {
		errs = append(errs, fmt.Errorf("max_conns_per_source: %d is outside 1..65536", c.MaxConnsPerSource))
	}
	if !(c.HandshakesPerSecond > 0 && c.HandshakesPerSecond <= 100000) {
		errs = append(errs, fmt.Errorf("handshakes_per_second: %g is outside (0, 100000]", c.HandshakesPerSecond))
	}
	if c.HandshakeBurst < 1 || c.HandshakeBurst > 100000 {
		errs = append(errs, fmt.Errorf("handshake_burst: %d is outside 1..100000", c.HandshakeBurst))
	}
	return errors.Join(errs...)
}
