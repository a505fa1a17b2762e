package softhsm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests run softhsm2-util (not the module); they fail, never skip,
// when SoftHSM2 is missing.

func TestModulePath(t *testing.T) {
	p, err := ModulePath()
	if err != nil {
		t.Fatalf("ModulePath: %v (install with apt-get install softhsm2; make test does)", err)
	}
	if !filepath.IsAbs(p) {
		t.Fatalf("ModulePath = %q, want an absolute path", p)
	}
}

func TestWriteConf(t *testing.T) {
	dir := t.TempDir()
	conf, err := WriteConf(dir)
	if err != nil {
		t.Fatalf("WriteConf: %v", err)
	}
	body, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if want := "directories.tokendir = " + filepath.Join(dir, "tokens") + "\n"; !strings.Contains(string(body), want) {
		t.Fatalf("conf lacks %q:\n%s", want, body)
	}
	for path, mode := range map[string]os.FileMode{conf: 0o600, filepath.Join(dir, "tokens"): 0o700} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, mode)
		}
	}
	if _, err := WriteConf("/tmp/bad\nname"); err == nil {
		t.Error("WriteConf accepted a directory name with a line break")
	}
}

func TestInitToken(t *testing.T) {
	const soPIN, userPIN = "so-pin-27182818", "user-pin-16180339"
	conf, err := WriteConf(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	before := os.Getenv("SOFTHSM2_CONF")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tests := []struct {
		name                 string
		conf, label, so, pin string
		want                 error
	}{
		{"ok/first", conf, "node1", soPIN, userPIN, nil},
		{"ok/second", conf, "node2", soPIN, userPIN, nil},
		{"fail/duplicate-label", conf, "node1", soPIN, userPIN, ErrTokenExists},
		{"fail/short-user-pin", conf, "node3", soPIN, "123", nil},
		{"fail/short-so-pin", conf, "node3", "12", userPIN, nil},
		{"fail/long-label", conf, strings.Repeat("x", 33), soPIN, userPIN, nil},
		{"fail/missing-conf", filepath.Join(t.TempDir(), "absent.conf"), "node3", soPIN, userPIN, os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := InitToken(ctx, tc.conf, tc.label, tc.so, tc.pin)
			if strings.HasPrefix(tc.name, "ok/") {
				if err != nil {
					t.Fatalf("InitToken: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("InitToken succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			for _, pin := range []string{tc.so, tc.pin} {
				if strings.Contains(err.Error(), pin) {
					t.Errorf("err contains a PIN: %q", err)
				}
			}
		})
	}
	labels, err := Tokens(ctx, conf)
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	slices.Sort(labels)
	if !slices.Equal(labels, []string{"node1", "node2"}) {
		t.Fatalf("Tokens = %q, want node1 and node2", labels)
	}
	if got := os.Getenv("SOFTHSM2_CONF"); got != before {
		t.Fatalf("InitToken changed this process's SOFTHSM2_CONF to %q", got)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, out string
		secrets   []string
		want      string
	}{
		{"ok/none", "no secret here", []string{"1234"}, "no secret here"},
		{"ok/both", "so 1234 user 5678 again 1234", []string{"1234", "5678"}, "so REDACTED user REDACTED again REDACTED"},
		{"ok/empty-secret-ignored", "abc", []string{""}, "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(redact([]byte(tc.out), tc.secrets)); got != tc.want {
				t.Fatalf("redact = %q, want %q", got, tc.want)
			}
		})
	}
}
