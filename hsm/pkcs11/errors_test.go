package pkcs11

import (
	"errors"
	"fmt"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// TestDecryptError: only a tag mismatch is tampering (hsm.ErrUnseal); a
// token pulled out, a lost session or login, or a failing device is
// hsm.ErrUnavailable with its own error, and the module's code is kept.
func TestDecryptError(t *testing.T) {
	probeOK := func() error { return nil }
	probeFails := func() error { return p11.Error(p11.CKR_GENERAL_ERROR) }
	tests := []struct {
		name      string
		rv        uint
		probe     func() error
		want      error
		probeUsed bool
	}{
		{"ok/tamper/encrypted-data-invalid", p11.CKR_ENCRYPTED_DATA_INVALID, probeFails, hsm.ErrUnseal, false},
		{"ok/tamper/encrypted-data-len-range", p11.CKR_ENCRYPTED_DATA_LEN_RANGE, probeFails, hsm.ErrUnseal, false},
		{"ok/tamper/general-error-device-works", p11.CKR_GENERAL_ERROR, probeOK, hsm.ErrUnseal, true},
		{"ok/tamper/function-failed-device-works", p11.CKR_FUNCTION_FAILED, probeOK, hsm.ErrUnseal, true},
		{"fail/device/general-error-probe-fails", p11.CKR_GENERAL_ERROR, probeFails, ErrDevice, true},
		{"fail/device/device-error", p11.CKR_DEVICE_ERROR, probeOK, ErrDevice, false},
		{"fail/device/device-memory", p11.CKR_DEVICE_MEMORY, probeOK, ErrDevice, false},
		{"fail/removed/device-removed", p11.CKR_DEVICE_REMOVED, probeOK, ErrTokenNotPresent, false},
		{"fail/removed/token-not-present", p11.CKR_TOKEN_NOT_PRESENT, probeOK, ErrTokenNotPresent, false},
		{"fail/session/handle-invalid", p11.CKR_SESSION_HANDLE_INVALID, probeOK, ErrSessionLost, false},
		{"fail/session/closed", p11.CKR_SESSION_CLOSED, probeOK, ErrSessionLost, false},
		{"fail/session/key-handle-invalid", p11.CKR_KEY_HANDLE_INVALID, probeOK, ErrSessionLost, false},
		{"fail/login/user-not-logged-in", p11.CKR_USER_NOT_LOGGED_IN, probeOK, ErrNotLoggedIn, false},
		{"fail/other/operation-not-initialized", p11.CKR_OPERATION_NOT_INITIALIZED, probeOK, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			used := false
			probe := func() error { used = true; return tc.probe() }
			cause := fmt.Errorf("%w: %w", errDecrypt, p11.Error(tc.rv))
			err := decryptError(cause, probe)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tamper := tc.want == hsm.ErrUnseal; errors.Is(err, hsm.ErrUnseal) != tamper {
				t.Errorf("err = %v: tamper = %t, want %t", err, !tamper, tamper)
			}
			if away := tc.want != nil && tc.want != hsm.ErrUnseal; away && !errors.Is(err, hsm.ErrUnavailable) {
				t.Errorf("err = %v, want it to wrap hsm.ErrUnavailable", err)
			}
			if !isRV(err, tc.rv) {
				t.Errorf("err = %v lost the module's code %#x", err, tc.rv)
			}
			if used != tc.probeUsed {
				t.Errorf("probe used = %t, want %t", used, tc.probeUsed)
			}
		})
	}
}

// TestClassify: every PKCS#11 call's error is named the same way, and
// classifying twice changes nothing.
func TestClassify(t *testing.T) {
	tests := []struct {
		rv       uint
		want     error
		relogins bool
	}{
		{p11.CKR_DEVICE_REMOVED, ErrTokenNotPresent, true},
		{p11.CKR_TOKEN_NOT_PRESENT, ErrTokenNotPresent, true},
		{p11.CKR_SESSION_HANDLE_INVALID, ErrSessionLost, true},
		{p11.CKR_SESSION_CLOSED, ErrSessionLost, true},
		{p11.CKR_OBJECT_HANDLE_INVALID, ErrSessionLost, true},
		{p11.CKR_USER_NOT_LOGGED_IN, ErrNotLoggedIn, true},
		{p11.CKR_DEVICE_ERROR, ErrDevice, false},
		{p11.CKR_DEVICE_MEMORY, ErrDevice, false},
		{p11.CKR_GENERAL_ERROR, ErrDevice, false},
		{p11.CKR_ENCRYPTED_DATA_INVALID, nil, false}, // only decryptError calls it tampering
		{p11.CKR_MECHANISM_INVALID, nil, false},
	}
	t.Run("ok/decided-already", func(t *testing.T) {
		tamper := decryptError(fmt.Errorf("%w: %w", errDecrypt, p11.Error(p11.CKR_GENERAL_ERROR)), func() error { return nil })
		if got := classify(tamper); got != tamper || errors.Is(got, ErrDevice) {
			t.Fatalf("classify(tamper) = %v, want it unchanged", got)
		}
	})
	for _, tc := range tests {
		t.Run(p11.Error(tc.rv).Error(), func(t *testing.T) {
			cause := fmt.Errorf("encrypt: %w", p11.Error(tc.rv))
			err := classify(cause)
			if tc.want == nil {
				if err != cause {
					t.Fatalf("classify = %v, want the error unchanged", err)
				}
			} else if !errors.Is(err, tc.want) || !errors.Is(err, hsm.ErrUnavailable) {
				t.Fatalf("classify = %v, want %v", err, tc.want)
			}
			if errors.Is(err, hsm.ErrUnseal) {
				t.Fatalf("classify = %v: a tamper error", err)
			}
			if again := classify(err); again != err {
				t.Fatalf("classify twice = %v, want %v", again, err)
			}
			if needsRelogin(err) != tc.relogins {
				t.Fatalf("needsRelogin = %t, want %t", !tc.relogins, tc.relogins)
			}
		})
	}
}
