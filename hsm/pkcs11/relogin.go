package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// reloginPause is the least time between two attempts to log in again
// after one failed. Operations in between fail at once with that attempt's
// error, so a token that stays away costs one attempt per pause whatever
// the load, and never a stream of C_Login calls.
const reloginPause = time.Second

// recovery is the state of logging in again; mu serializes the attempts.
type recovery struct {
	mu      sync.Mutex
	next    time.Time // no attempt before this, after a failed one
	lastErr error     // the failed attempt's error, returned until next
	// refused is set when a relogin was refused for good: the token
	// refused the PIN, or would have been asked its last try, or came back
	// with other keys. Trying again could lock the token or sign with a
	// stranger's key; the node must be restarted by an operator.
	refused error
}

// do runs op on a pooled session. When op fails because the token lost
// its sessions or its login (it was removed and is back, or its sessions
// were closed under us), do logs in again once (relogin) and runs op one
// more time: a bounded retry, not a loop. Errors are classified (errors.go).
func (k *Keystore) do(ctx context.Context, op func(sh p11.SessionHandle, st *state) error) error {
	for attempt := 0; ; attempt++ {
		l, err := k.acquire(ctx)
		if err == nil {
			err = op(l.sh, l.st)
			k.release(l, err != nil)
			if err == nil {
				return nil
			}
		}
		if l.st == nil || attempt > 0 || !needsRelogin(err) {
			return classify(err)
		}
		// Counted in, so that Close waits for the relogin rather than
		// release the module under it.
		if !k.enter() {
			return classify(err)
		}
		rerr := k.relogin(l.st.gen, err)
		k.inflight.Done()
		if rerr != nil {
			return fmt.Errorf("%w (it failed first with: %w)", rerr, classify(err))
		}
	}
}

// relogin restores the login the state of generation gen had: it finds
// the token again, opens a new anchor session, checks the PIN-retry flags,
// logs in, finds and checks both keys again (checkKeyPolicy) and checks
// they are the keys the keystore was opened with (the identity public key,
// the self-test blob). Only then do operations use the new state; the old
// state's sessions are dropped as they come back to acquire.
func (k *Keystore) relogin(gen uint64, cause error) error {
	k.rec.mu.Lock()
	defer k.rec.mu.Unlock()
	st := k.cur.Load()
	switch now := time.Now(); {
	case st.gen != gen:
		return nil // another operation already logged in again
	case k.rec.refused != nil:
		return k.rec.refused
	case now.Before(k.rec.next):
		return k.rec.lastErr
	}
	k.log.Warn("token lost its session or login; logging in again", "cause", classify(cause), "generation", st.gen)
	ns, err := k.reconnect(st)
	if err != nil {
		err = fmt.Errorf("restore the session on token %q: %w", k.cfg.TokenLabel, err)
		k.rec.next, k.rec.lastErr = time.Now().Add(reloginPause), err
		if errors.Is(err, hsm.ErrLogin) || errors.Is(err, hsm.ErrKeyPolicy) {
			k.rec.refused = err
			k.log.Error("token refused the relogin for good; restart the node once the token is fixed", "err", err)
		}
		return err
	}
	ns.gen = st.gen + 1
	k.cur.Store(ns)
	k.rec.next, k.rec.lastErr = time.Time{}, nil
	k.log.Info("token session restored", "generation", ns.gen)
	return nil
}

// reconnect logs in again and loads the keys. If the keys are not the
// ones the keystore had, the new login is given up and st stays current.
func (k *Keystore) reconnect(st *state) (*state, error) {
	nt, err := st.tok.reconnect(k.log)
	if err != nil {
		return nil, err
	}
	ns, pub, err := k.loadKeys(nt)
	if err == nil {
		err = k.sameKeys(ns, pub)
	}
	if err != nil {
		// st.tok gave nt its share of the login: give it up with nt, so
		// that the next attempt logs in afresh and Close has one anchor.
		if derr := nt.disconnect(); derr != nil {
			k.log.Warn("give up the new session", "err", derr)
		}
		return nil, err
	}
	return ns, nil
}
