package main

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/cofferhq/coffer/hsm/tokensigner"
	"github.com/cofferhq/coffer/pki"
	"github.com/cofferhq/coffer/policy"
)

// maxKeyFile bounds a private key file.
const maxKeyFile = 64 << 10

// officerKeyFlags choose the key that signs an officer's approval: a
// PKCS#8 PEM file, or a key on a PKCS#11 token (PIN from an environment
// variable, never a flag value).
type officerKeyFlags struct {
	file                         string
	module, token, label, pinEnv string
}

func (k *officerKeyFlags) register(f *pflag.FlagSet) {
	f.StringVar(&k.file, "key", "", "approval key: PKCS#8 PEM file (default: the dev cluster's OFFICER.key)")
	f.StringVar(&k.module, "pkcs11-module", "", "approval key on a PKCS#11 token: absolute path of the module")
	f.StringVar(&k.token, "token", "", "label of the token holding the approval key")
	f.StringVar(&k.label, "key-label", "", "label of the approval key pair on the token")
	f.StringVar(&k.pinEnv, "pin-env", "", "name of the environment variable holding the token's user PIN")
}

// onToken reports whether any token flag is set.
func (k *officerKeyFlags) onToken() bool {
	return k.module != "" || k.token != "" || k.label != "" || k.pinEnv != ""
}

// approvalKey is an opened approval key.
type approvalKey struct {
	crypto.Signer
	desc  string           // where it lives, for the officer to check
	pub   policy.PublicKey // as the policy writes it
	close func() error
}

var (
	_ slog.LogValuer = approvalKey{}
	_ fmt.Formatter  = approvalKey{}
)

// LogValue and Format name where the key lives, never the key: a key read
// from a file is an ed25519.PrivateKey or *ecdsa.PrivateKey, which fmt
// and slog would print.
func (k approvalKey) LogValue() slog.Value       { return slog.StringValue("approval key in " + k.desc) }
func (k approvalKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "approval key in "+k.desc) }

// open opens the key; defaultFile is used when neither --key nor a token
// is given. Warnings go to warn. Nothing secret is ever printed.
func (k *officerKeyFlags) open(defaultFile string, warn io.Writer) (*approvalKey, error) {
	if k.onToken() {
		if k.file != "" {
			return nil, errors.New("--key and the PKCS#11 flags exclude each other: the approval key is a file or on a token")
		}
		cfg := tokensigner.Config{Module: k.module, TokenLabel: k.token, KeyLabel: k.label, PINEnv: k.pinEnv}
		s, err := tokensigner.Open(cfg)
		if err != nil {
			return nil, err
		}
		pub, err := policy.PublicKeyFrom(s.Public())
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("approval key %q on token %q: %w", k.label, k.token, err)
		}
		return &approvalKey{Signer: s, pub: pub, close: s.Close,
			desc: fmt.Sprintf("PKCS#11 token %q, key %q", k.token, k.label)}, nil
	}
	path := k.file
	if path == "" {
		path = defaultFile
	}
	s, err := readKeyFile(path, warn)
	if err != nil {
		return nil, err
	}
	pub, err := policy.PublicKeyFrom(s.Public())
	if err != nil {
		return nil, fmt.Errorf("approval key %s: %w", path, err)
	}
	return &approvalKey{Signer: s, pub: pub, close: func() error { return nil }, desc: "file " + path}, nil
}

// readKeyFile reads a PKCS#8 PEM private key. Its errors name the file,
// never its content.
func readKeyFile(path string, warn io.Writer) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read approval key: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(warn, "warning: approval key %s is readable by group or others (mode %s); chmod 600 it\n", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read approval key %s: %w", path, err)
	}
	defer clear(b)
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("read approval key %s: larger than %d bytes, not a key file", path, maxKeyFile)
	}
	s, err := pki.ParseKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("read approval key %s: want a PKCS#8 PEM private key: %w", path, err)
	}
	return s, nil
}
