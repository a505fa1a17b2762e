package pkcs11

import (
	"fmt"
	"log/slog"

	p11 "github.com/miekg/pkcs11"
)

// loginAPI is what logging in needs of a module: the token's flags, read
// before every C_Login, and C_Login itself. *p11.Ctx is one; the tests
// give a fake that sets the PIN-retry flags SoftHSM never sets and counts
// the logins.
type loginAPI interface {
	GetTokenInfo(slotID uint) (p11.TokenInfo, error)
	Login(sh p11.SessionHandle, userType uint, pin string) error
}

var _ loginAPI = (*p11.Ctx)(nil)

// checkPINFlags decides from CK_TOKEN_INFO.flags, read before C_Login,
// whether the PIN may be tried. HSMs count wrong PINs and lock the user
// out after a few; a node restarted in a loop with a wrong PIN file would
// spend every attempt. So a locked PIN (CKF_USER_PIN_LOCKED) and the last
// attempt (CKF_USER_PIN_FINAL_TRY) are refused without trying, and a low
// count (CKF_USER_PIN_COUNT_LOW: a wrong PIN was given since the last
// good login) is reported by warn, so that the operator looks before the
// next restart.
func checkPINFlags(flags uint) (warn bool, err error) {
	switch {
	case flags&p11.CKF_USER_PIN_LOCKED != 0:
		return false, ErrPINLocked
	case flags&p11.CKF_USER_PIN_FINAL_TRY != 0:
		return false, ErrPINFinalTry
	}
	return flags&p11.CKF_USER_PIN_COUNT_LOW != 0, nil
}

// guardPIN reads the token's flags and applies checkPINFlags. It fails
// closed: flags that cannot be read refuse the login too.
func guardPIN(api loginAPI, slot uint, log *slog.Logger) error {
	ti, err := api.GetTokenInfo(slot)
	if err != nil {
		return fmt.Errorf("read token flags before login: %w", classify(err))
	}
	warn, err := checkPINFlags(ti.Flags)
	if err != nil {
		return err
	}
	if warn {
		log.Warn("the token reports a wrong user PIN since its last good login (CKF_USER_PIN_COUNT_LOW); "+
			"check the PIN file before restarting: the token locks after a few more", "slot", slot)
	}
	return nil
}
