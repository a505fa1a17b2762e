package softhsm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// modulePaths are where distributions install libsofthsm2.so, most common
// first. Debian and Ubuntu use /usr/lib/softhsm (and a multiarch copy).
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/*-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/lib/pkcs11/libsofthsm2.so",
	"/usr/lib64/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
	"/usr/local/opt/softhsm/lib/softhsm/libsofthsm2.so",
}

// ModulePath returns the absolute path of libsofthsm2.so, searching the
// usual install locations. The error wraps ErrNotInstalled and lists them.
func ModulePath() (string, error) {
	for _, pattern := range modulePaths {
		matches, _ := filepath.Glob(pattern)
		for _, p := range matches {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("find SoftHSM2 module (searched %s): %w", strings.Join(modulePaths, ", "), ErrNotInstalled)
}
