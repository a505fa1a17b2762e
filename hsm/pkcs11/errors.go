package pkcs11

import (
	"errors"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// Why a PKCS#11 operation failed, when it is not the blob's fault. Each
// wraps hsm.ErrUnavailable, so that a caller can tell "the HSM is away"
// from "the blob was tampered with" (hsm.ErrUnseal) without knowing the
// backend; the module's return code stays in the chain for operators.
var (
	// ErrTokenNotPresent means the token was removed or is unreachable
	// (CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_RECOGNIZED,
	// CKR_SLOT_ID_INVALID).
	ErrTokenNotPresent = fmt.Errorf("%w: token not present (removed or disconnected)", hsm.ErrUnavailable)
	// ErrSessionLost means the session, or the handles it gave, are no
	// longer valid (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
	// CKR_OBJECT_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID): the sessions
	// were closed under us, or the token went away and came back.
	ErrSessionLost = fmt.Errorf("%w: session closed or invalid", hsm.ErrUnavailable)
	// ErrNotLoggedIn means the token lost its login (CKR_USER_NOT_LOGGED_IN).
	ErrNotLoggedIn = fmt.Errorf("%w: not logged in to the token", hsm.ErrUnavailable)
	// ErrDevice means the module or device failed (CKR_DEVICE_ERROR,
	// CKR_DEVICE_MEMORY, CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED,
	// CKR_HOST_MEMORY), or a decryption failed while the device could not
	// open a known blob either.
	ErrDevice = fmt.Errorf("%w: device error", hsm.ErrUnavailable)
)

// Why the keystore did not even try the PIN. Both wrap hsm.ErrLogin.
var (
	// ErrPINLocked means the token reports the user PIN locked
	// (CKF_USER_PIN_LOCKED, or CKR_PIN_LOCKED from C_Login): a security
	// officer must unlock it.
	ErrPINLocked = fmt.Errorf("%w: user PIN is locked (CKF_USER_PIN_LOCKED); the security officer must unblock it", hsm.ErrLogin)
	// ErrPINFinalTry means the token has one PIN attempt left
	// (CKF_USER_PIN_FINAL_TRY). The keystore does not spend it: a node
	// restarting in a loop with a wrong PIN would lock the token. An
	// operator must check the PIN and log in once by hand (pkcs11-tool
	// --login), which resets the counter.
	ErrPINFinalTry = fmt.Errorf("%w: one user PIN attempt left (CKF_USER_PIN_FINAL_TRY); not trying it: check the PIN and log in once by hand", hsm.ErrLogin)
)

// errEmptyPIN is returned for a PIN file or variable that holds nothing.
var errEmptyPIN = errors.New("PIN is empty")

// classify names what a failed PKCS#11 call means: one of the errors
// above (with the module's code kept in the chain), or err unchanged when
// its code is none of theirs. It never yields hsm.ErrUnseal: only
// decryptError decides tampering.
func classify(err error) error {
	var class error
	switch {
	case err == nil, errors.Is(err, hsm.ErrUnseal), errors.Is(err, hsm.ErrUnavailable):
		return err // decided already
	case isRV(err, p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_DEVICE_REMOVED, p11.CKR_TOKEN_NOT_RECOGNIZED, p11.CKR_SLOT_ID_INVALID):
		class = ErrTokenNotPresent
	case isRV(err, p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_OBJECT_HANDLE_INVALID, p11.CKR_KEY_HANDLE_INVALID):
		class = ErrSessionLost
	case isRV(err, p11.CKR_USER_NOT_LOGGED_IN):
		class = ErrNotLoggedIn
	case isRV(err, p11.CKR_DEVICE_ERROR, p11.CKR_DEVICE_MEMORY, p11.CKR_GENERAL_ERROR, p11.CKR_FUNCTION_FAILED, p11.CKR_HOST_MEMORY):
		class = ErrDevice
	default:
		return err
	}
	return fmt.Errorf("%w: %w", class, err)
}

// needsRelogin reports whether err means the keystore's sessions or login
// are gone, so that opening new sessions and logging in again may cure it.
// A device error does not: the failed session is discarded, and logging in
// again would not mend the device.
func needsRelogin(err error) bool {
	return isRV(err, p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_DEVICE_REMOVED, p11.CKR_TOKEN_NOT_RECOGNIZED, p11.CKR_SLOT_ID_INVALID,
		p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_OBJECT_HANDLE_INVALID,
		p11.CKR_KEY_HANDLE_INVALID, p11.CKR_USER_NOT_LOGGED_IN)
}

// decryptError decides what a failed C_Decrypt of a sealed blob means.
// CKR_ENCRYPTED_DATA_INVALID and CKR_ENCRYPTED_DATA_LEN_RANGE are the
// codes PKCS#11 gives an AES-GCM tag mismatch: the blob is at fault
// (hsm.ErrUnseal). Some modules report a tag mismatch as CKR_GENERAL_ERROR
// (SoftHSM 2.6) or CKR_FUNCTION_FAILED, codes a failing device gives too;
// for those, probe decrypts a blob known to open: if it does, the device
// works and the tag was wrong (hsm.ErrUnseal); if not, the device failed
// (ErrDevice). Every other code is classified and is never tampering: a
// token pulled out mid-unseal must not read as a forged blob.
func decryptError(err error, probe func() error) error {
	switch {
	case isRV(err, p11.CKR_ENCRYPTED_DATA_INVALID, p11.CKR_ENCRYPTED_DATA_LEN_RANGE):
		return fmt.Errorf("%w (%w)", hsm.ErrUnseal, err)
	case isRV(err, p11.CKR_GENERAL_ERROR, p11.CKR_FUNCTION_FAILED):
		if perr := probe(); perr != nil {
			return fmt.Errorf("%w: %w (and a known blob did not open either: %w)", ErrDevice, err, perr)
		}
		return fmt.Errorf("%w (%w)", hsm.ErrUnseal, err)
	default:
		return classify(err)
	}
}

// gone reports whether err says the session is already closed, or its
// token away: closing or logging out of it then has nothing left to do.
func gone(err error) bool {
	return isRV(err, p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_DEVICE_REMOVED)
}
