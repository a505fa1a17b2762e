package vaulttest

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Version is the Vault server version the tests run against.
const Version = "1.21.0"

// BinaryEnv names an environment variable that overrides where the server
// binary is.
const BinaryEnv = "COFFER_VAULT_BIN"

// Binary returns the path of the Vault server binary, or an error telling
// how to build it.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("vault server binary from $%s: %w", BinaryEnv, err)
		}
		return p, nil
	}
	p := filepath.Join(goPath(), "bin", "vault-"+Version)
	if err := executable(p); err != nil {
		return "", fmt.Errorf("vault server binary %s: %w\n"+
			"The Vault tests run a real Vault %s server and do not skip without it. Build it once "+
			"(about 11 minutes on 2 cores, ~7.5 GB of disk) with scripts/build-vault.sh, which `make test` runs, "+
			"or point $%s at a vault %s binary", p, err, Version, BinaryEnv, Version)
	}
	return p, nil
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// goPath is the first entry of `go env GOPATH`, where scripts/build-vault.sh
// puts the binary.
func goPath() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		if p := strings.TrimSpace(string(out)); p != "" {
			return filepath.SplitList(p)[0]
		}
	}
	return filepath.SplitList(build.Default.GOPATH)[0]
}
