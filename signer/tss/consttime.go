package tss

import (
	"fmt"
	"runtime/debug"

	"github.com/bnb-chain/tss-lib/v3/common"
)

// tss-lib's constant-time modular arithmetic (filippo.io/bigmod) is off by
// default; every process that imports this package runs with it on, so no
// share or pre-parameter is ever used by variable-time math/big code
// (CVE-2023-26556, CVE-2023-26557).
func init() { common.EnableConstantTimeOps() }

// ConstantTime reports whether tss-lib's constant-time arithmetic is on.
// Sessions refuse to start when it is off, and a node refuses to run.
func ConstantTime() bool { return common.IsConstantTimeEnabled() }

func requireConstantTime(what string) error {
	if !ConstantTime() {
		return fmt.Errorf("%s: %w", what, ErrVariableTime)
	}
	return nil
}

// Library names the threshold library this binary was built with and its
// version, as the Go build records it ("github.com/bnb-chain/tss-lib/v3
// v3.0.0"), for the operator's status.
func Library() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return libraryPath + " (version unknown)"
	}
	for _, d := range bi.Deps {
		if d.Path == libraryPath {
			if d.Replace != nil {
				return d.Path + " " + d.Version + " => " + d.Replace.Path + " " + d.Replace.Version
			}
			return d.Path + " " + d.Version
		}
	}
	return libraryPath + " (version unknown)"
}

const libraryPath = "github.com/bnb-chain/tss-lib/v3"
