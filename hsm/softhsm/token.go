package softhsm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// utilName is the SoftHSM2 command-line tool.
const utilName = "softhsm2-util"

// PIN length limits of SoftHSM2.
const (
	minPIN = 4
	maxPIN = 255
)

// InitToken initializes a new token labelled label in the token directory
// of the conf at confPath (`softhsm2-util --init-token --free`), with the
// given SO and user PINs. It refuses a label already in use with
// ErrTokenExists. Errors never contain the PINs.
func InitToken(ctx context.Context, confPath, label, soPIN, userPIN string) error {
	if err := checkInit(label, soPIN, userPIN); err != nil {
		return fmt.Errorf("init SoftHSM token %q: %w", label, err)
	}
	labels, err := Tokens(ctx, confPath)
	if err != nil {
		return fmt.Errorf("init SoftHSM token %q: %w", label, err)
	}
	for _, l := range labels {
		if l == label {
			return fmt.Errorf("init SoftHSM token %q: %w", label, ErrTokenExists)
		}
	}
	_, err = run(ctx, confPath, []string{soPIN, userPIN},
		"--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", userPIN)
	if err != nil {
		return fmt.Errorf("init SoftHSM token %q: %w", label, err)
	}
	return nil
}

// Tokens returns the labels of the initialized tokens of the conf.
func Tokens(ctx context.Context, confPath string) ([]string, error) {
	out, err := run(ctx, confPath, nil, "--show-slots")
	if err != nil {
		return nil, fmt.Errorf("list SoftHSM tokens: %w", err)
	}
	// Each slot prints "Initialized: yes|no" before its "Label:" line.
	var labels []string
	initialized := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "Initialized:"); ok {
			initialized = strings.TrimSpace(v) == "yes"
		}
		if v, ok := strings.CutPrefix(line, "Label:"); ok && initialized {
			labels = append(labels, strings.TrimSpace(v))
			initialized = false
		}
	}
	return labels, nil
}

func checkInit(label, soPIN, userPIN string) error {
	var errs []error
	if label == "" || len(label) > 32 || strings.TrimSpace(label) != label {
		errs = append(errs, fmt.Errorf("label must be 1 to 32 bytes without surrounding spaces"))
	}
	for _, p := range []struct{ name, v string }{{"SO PIN", soPIN}, {"user PIN", userPIN}} {
		if len(p.v) < minPIN || len(p.v) > maxPIN {
			errs = append(errs, fmt.Errorf("%s must be %d to %d characters", p.name, minPIN, maxPIN))
		}
	}
	return errors.Join(errs...)
}

// run runs softhsm2-util with SOFTHSM2_CONF=confPath for the child only.
// Its output, with every secret replaced, is part of the error it returns.
func run(ctx context.Context, confPath string, secrets []string, args ...string) ([]byte, error) {
	bin, err := exec.LookPath(utilName)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", utilName, ErrNotInstalled)
	}
	if _, err := os.Stat(confPath); err != nil {
		return nil, fmt.Errorf("read SoftHSM conf: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(withoutVar(os.Environ(), "SOFTHSM2_CONF"), "SOFTHSM2_CONF="+confPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("run %s %s: %w: %s", utilName, args[0], err, strings.TrimSpace(string(redact(out, secrets))))
	}
	return out, nil
}

func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// redact replaces every occurrence of each non-empty secret in out.
func redact(out []byte, secrets []string) []byte {
	for _, s := range secrets {
		if s != "" {
			out = bytes.ReplaceAll(out, []byte(s), []byte("REDACTED"))
		}
	}
	return out
}
