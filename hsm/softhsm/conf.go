package softhsm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfName is the file name WriteConf writes in its directory.
const ConfName = "softhsm2.conf"

// WriteConf writes dir/softhsm2.conf (mode 0600) with its token directory
// at dir/tokens (created, mode 0700) and returns the conf's absolute path,
// the value for SOFTHSM2_CONF. An existing conf is overwritten; tokens
// already in dir/tokens are kept.
func WriteConf(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("write SoftHSM conf in %s: %w", dir, err)
	}
	if strings.ContainsAny(abs, "\n\r") {
		return "", fmt.Errorf("write SoftHSM conf in %q: directory name contains a line break", dir)
	}
	tokens := filepath.Join(abs, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", fmt.Errorf("write SoftHSM conf: create token directory: %w", err)
	}
	conf := filepath.Join(abs, ConfName)
	body := "# Written by coffer (hsm/softhsm) for development and tests.\n" +
		"directories.tokendir = " + tokens + "\n" +
		"objectstore.backend = file\n" +
		"log.level = ERROR\n" +
		"slots.removable = false\n" +
		"slots.mechanisms = ALL\n" +
		"library.reset_on_fork = false\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("write SoftHSM conf: %w", err)
	}
	return conf, nil
}
