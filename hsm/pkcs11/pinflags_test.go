package pkcs11

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// fakeAuth is a token whose flags the test sets (SoftHSM never sets the
// PIN-retry flags) and which counts C_Login calls.
type fakeAuth struct {
	flags   uint
	infoErr error
	logins  int
}

func (f *fakeAuth) GetTokenInfo(uint) (p11.TokenInfo, error) {
	return p11.TokenInfo{Flags: f.flags | p11.CKF_TOKEN_INITIALIZED | p11.CKF_LOGIN_REQUIRED}, f.infoErr
}

func (f *fakeAuth) Login(p11.SessionHandle, uint, string) error {
	f.logins++
	return nil
}

// TestLoginReadsPINFlags: a locked PIN and the last PIN attempt are
// refused before any C_Login, naming the flag; a low count logs a warning
// and logs in; unreadable flags refuse too.
func TestLoginReadsPINFlags(t *testing.T) {
	tests := []struct {
		name    string
		flags   uint
		infoErr error
		want    error  // nil: logs in
		mention string // in the error, or in the warning
	}{
		{"ok/no-flags", 0, nil, nil, ""},
		{"ok/count-low-warns", p11.CKF_USER_PIN_COUNT_LOW, nil, nil, "CKF_USER_PIN_COUNT_LOW"},
		{"fail/final-try", p11.CKF_USER_PIN_FINAL_TRY | p11.CKF_USER_PIN_COUNT_LOW, nil, ErrPINFinalTry, "CKF_USER_PIN_FINAL_TRY"},
		{"fail/locked", p11.CKF_USER_PIN_LOCKED, nil, ErrPINLocked, "CKF_USER_PIN_LOCKED"},
		{"fail/locked-and-final-try", p11.CKF_USER_PIN_LOCKED | p11.CKF_USER_PIN_FINAL_TRY, nil, ErrPINLocked, "CKF_USER_PIN_LOCKED"},
		{"fail/flags-unreadable", 0, p11.Error(p11.CKR_DEVICE_REMOVED), ErrTokenNotPresent, "read token flags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth := &fakeAuth{flags: tc.flags, infoErr: tc.infoErr}
			m := &module{path: "fake", auth: auth, logins: map[uint]*login{}}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			err := m.login(7, 1, newSecret("1234-not-a-real-pin"), log)
			if tc.want == nil {
				if err != nil || auth.logins != 1 || m.logins[7].refs != 1 {
					t.Fatalf("login = %v after %d C_Login; want one C_Login and success", err, auth.logins)
				}
				warned := strings.Contains(logs.String(), "level=WARN")
				if want := tc.mention != ""; warned != want || !strings.Contains(logs.String(), tc.mention) {
					t.Fatalf("warned = %t, want %t mentioning %q; logs:\n%s", warned, want, tc.mention, logs.String())
				}
				return
			}
			if auth.logins != 0 {
				t.Errorf("C_Login called %d times, want none", auth.logins)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tc.infoErr == nil && !errors.Is(err, hsm.ErrLogin) {
				t.Errorf("err = %v, want it to wrap hsm.ErrLogin", err)
			}
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %v, want it to name %s", err, tc.mention)
			}
			if len(m.logins) != 0 {
				t.Errorf("a refused login was counted: %v", m.logins)
			}
			if strings.Contains(logs.String()+err.Error(), "1234-not-a-real-pin") {
				t.Error("the PIN reached the logs or the error")
			}
		})
	}
}

// TestLoginOnSoftHSM: the real token's flags are read before C_Login and
// set none of the retry flags, so the normal path logs in once.
func TestLoginOnSoftHSM(t *testing.T) {
	k := openTest(t, testConfig(tokNode1))
	real := k.mod.auth
	counting := &countingAuth{loginAPI: real}
	k.mod.auth = counting
	t.Cleanup(func() { k.mod.auth = real })

	k2 := openTest(t, testConfig(tokNode1)) // joins the login: C_Login says already logged in
	if counting.infos != 1 || counting.logins != 1 {
		t.Fatalf("second Open read the flags %d times and called C_Login %d times, want once each", counting.infos, counting.logins)
	}
	if err := k2.Close(); err != nil {
		t.Fatal(err)
	}
	ti, err := real.GetTokenInfo(k.cur.Load().tok.slot)
	if err != nil {
		t.Fatal(err)
	}
	if warn, err := checkPINFlags(ti.Flags); warn || err != nil {
		t.Fatalf("SoftHSM token flags %#x: warn %t, err %v; want neither", ti.Flags, warn, err)
	}
}

// TestPINCountLowOnSoftHSM: SoftHSM sets CKF_USER_PIN_COUNT_LOW after a
// wrong PIN (never FINAL_TRY or LOCKED): the next Open warns and logs in,
// and the good login clears the flag.
func TestPINCountLowOnSoftHSM(t *testing.T) {
	cfg := freshKeys(t, tokRePIN)
	bad := cfg
	bad.PINFile = writeFile(t, "wrong.pin", "wrong-pin-14142135")
	if k, err := Open(bad, testLogger(t)); !errors.Is(err, hsm.ErrLogin) {
		if k != nil {
			k.Close()
		}
		t.Fatalf("Open with a wrong PIN: %v, want ErrLogin", err)
	}
	for i, want := range []bool{true, false} {
		var logs bytes.Buffer
		k, err := Open(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "CKF_USER_PIN_COUNT_LOW"); got != want {
			t.Fatalf("Open %d warned of CKF_USER_PIN_COUNT_LOW: %t, want %t; logs:\n%s", i, got, want, logs.String())
		}
	}
}

// countingAuth counts the calls it passes on to the module.
type countingAuth struct {
	loginAPI
	infos, logins int
}

func (c *countingAuth) GetTokenInfo(slot uint) (p11.TokenInfo, error) {
	c.infos++
	return c.loginAPI.GetTokenInfo(slot)
}

func (c *countingAuth) Login(sh p11.SessionHandle, userType uint, pin string) error {
	c.logins++
	return c.loginAPI.Login(sh, userType, pin)
}
