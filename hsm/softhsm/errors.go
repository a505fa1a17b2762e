package softhsm

import "errors"

var (
	// ErrNotInstalled means the SoftHSM2 module or softhsm2-util was not
	// found. On Debian and Ubuntu: apt-get install softhsm2.
	ErrNotInstalled = errors.New("softhsm: SoftHSM2 is not installed (apt-get install softhsm2)")
	// ErrTokenExists means a token with the label is already initialized.
	ErrTokenExists = errors.New("softhsm: token label already in use")
)
