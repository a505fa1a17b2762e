package tokensigner

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm/softhsm"
	"github.com/cofferhq/coffer/pki"
)

// The tests run against SoftHSM2: TestMain writes a softhsm2.conf in a temp
// dir, points SOFTHSM2_CONF at it for the test binary, initializes the
// tokens and imports officer keys generated here (so the tests know the
// public keys independently of the token). It fails, never skips, when
// SoftHSM2 is missing.

const (
	tokOfficer = "officer" // the good keys and the broken ones
	tokOther   = "other"   // wrong-PIN tests (kept apart from tokOfficer)
	pinVar     = "TOKENSIGNER_TEST_PIN"
)

// Key labels on tokOfficer.
const (
	labelEd          = "tom-ed25519"
	labelP256        = "tom-p256"
	labelP384        = "p384"        // unsupported curve
	labelDup         = "dup"         // two Ed25519 pairs share it
	labelMismatch    = "mismatch"    // private key of one pair, public key of another
	labelExtractable = "extractable" // P-256, CKA_EXTRACTABLE true, CKA_SENSITIVE false
)

var env struct {
	module, conf string
	pin          string
	ed           ed25519.PrivateKey
	p256         *ecdsa.PrivateKey
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	module, err := softhsm.ModulePath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: hsm/tokensigner tests need SoftHSM2 and do not skip without it: %v\n"+
			"Install it (make test does): sudo apt-get install -y softhsm2\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "coffer-tokensigner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir, module); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set up SoftHSM tokens:", err)
		return 1
	}
	return m.Run()
}

func setup(dir, module string) error {
	env.module, env.pin = module, randomHex(12)
	conf, err := softhsm.WriteConf(dir)
	if err != nil {
		return err
	}
	env.conf = conf
	if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
		return err
	}
	if err := os.Setenv(pinVar, env.pin); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	soPIN := randomHex(12)
	for _, l := range []string{tokOfficer, tokOther} {
		if err := softhsm.InitToken(ctx, conf, l, soPIN, env.pin); err != nil {
			return err
		}
	}
	_, env.ed, _ = ed25519.GenerateKey(rand.Reader)
	if env.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return err
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	_, dup2, _ := ed25519.GenerateKey(rand.Reader)
	for i, k := range []struct {
		token, label string
		key          crypto.Signer
	}{
		{tokOfficer, labelEd, env.ed}, {tokOfficer, labelP256, env.p256}, {tokOfficer, labelP384, p384},
		{tokOfficer, labelDup, other}, {tokOfficer, labelDup, dup2},
		{tokOfficer, labelMismatch, env.ed}, {tokOfficer, labelMismatch + "-other", other},
		{tokOther, labelEd, env.ed},
	} {
		if err := importKey(ctx, dir, k.token, k.label, fmt.Sprintf("%02x", i+1), k.key); err != nil {
			return err
		}
	}
	return breakKeys()
}

// importKey imports a key pair with softhsm2-util, the way an officer
// moves an existing PKCS#8 key onto a token.
func importKey(ctx context.Context, dir, token, label, id string, key crypto.Signer) error {
	keyPEM, err := pki.KeyPEM(key)
	if err != nil {
		return err
	}
	f := filepath.Join(dir, label+"-"+id+".pem")
	if err := os.WriteFile(f, keyPEM, 0o600); err != nil {
		return err
	}
	defer os.Remove(f)
	cmd := exec.CommandContext(ctx, "softhsm2-util", "--import", f, "--token", token, "--label", label, "--id", id, "--pin", env.pin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("import %s into %s: %w: %s", label, token, err, strings.ReplaceAll(string(out), env.pin, "REDACTED"))
	}
	return nil
}

// breakKeys makes the mismatched pair (the public object of "mismatch" is
// replaced by another key's) and generates an extractable P-256 key.
func breakKeys() error {
	ctx := p11.New(env.module)
	if ctx == nil {
		return fmt.Errorf("load %s", env.module)
	}
	defer ctx.Destroy()
	if err := ctx.Initialize(); err != nil {
		return err
	}
	defer ctx.Finalize()
	slot, err := findSlot(ctx, env.module, tokOfficer)
	if err != nil {
		return err
	}
	sh, err := ctx.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, p11.CKU_USER, env.pin); err != nil {
		return err
	}
	defer ctx.Logout(sh)
	pubA, err := findKey(ctx, sh, "public key", p11.CKO_PUBLIC_KEY, labelMismatch)
	if err != nil {
		return err
	}
	pubB, err := findKey(ctx, sh, "public key", p11.CKO_PUBLIC_KEY, labelMismatch+"-other")
	if err != nil {
		return err
	}
	if err := ctx.DestroyObject(sh, pubA); err != nil {
		return err
	}
	if err := ctx.SetAttributeValue(sh, pubB, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, labelMismatch)}); err != nil {
		return err
	}
	pub := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true), p11.NewAttribute(p11.CKA_VERIFY, true),
		p11.NewAttribute(p11.CKA_EC_PARAMS, paramsP256), p11.NewAttribute(p11.CKA_LABEL, labelExtractable),
	}
	priv := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true), p11.NewAttribute(p11.CKA_PRIVATE, true), p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, false), p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
		p11.NewAttribute(p11.CKA_LABEL, labelExtractable),
	}
	_, _, err = ctx.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_EC_KEY_PAIR_GEN, nil)}, pub, priv)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cfg is a config of the officer token with the test PIN variable.
func cfg(label string) Config {
	return Config{Module: env.module, TokenLabel: tokOfficer, KeyLabel: label, PINEnv: pinVar}
}
