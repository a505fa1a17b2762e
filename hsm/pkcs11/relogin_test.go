package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/cofferhq/coffer/hsm"
)

// freshKeys provisions a new key set on token and returns its config.
func freshKeys(t *testing.T, token string) Config {
	t.Helper()
	n := keySets.Add(1)
	cfg := testConfig(token)
	cfg.SealKeyLabel, cfg.IdentityKeyLabel = fmt.Sprintf("seal-%d", n), fmt.Sprintf("node-%d", n)
	cfg.Sessions = 2
	if _, err := Provision(cfg, testLogger(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return cfg
}

// countLogins makes the module count C_Login calls until the test ends.
func countLogins(t *testing.T, m *module) *countingAuth {
	real := m.auth
	c := &countingAuth{loginAPI: real}
	m.auth = c
	t.Cleanup(func() { m.auth = real })
	return c
}

// closeAllSessions closes every session of this process on k's token, as
// a token pulled out and put back does: the login goes with them.
func closeAllSessions(t *testing.T, k *Keystore) {
	t.Helper()
	if err := k.mod.ctx.CloseAllSessions(k.cur.Load().tok.slot); err != nil {
		t.Fatalf("C_CloseAllSessions: %v", err)
	}
}

// works seals, opens and signs with k, and opens an older blob.
func works(t *testing.T, k *Keystore, old []byte) {
	t.Helper()
	ctx := context.Background()
	if pt, err := k.Open(ctx, []byte("aad"), old); err != nil || string(pt) != "share" {
		t.Fatalf("Open = %q, %v; want the plaintext", pt, err)
	}
	b, err := k.Seal(ctx, []byte("aad"), []byte("again"))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if pt, err := k.Open(ctx, []byte("aad"), b); err != nil || string(pt) != "again" {
		t.Fatalf("Open = %q, %v; want the plaintext", pt, err)
	}
	sig, err := k.Identity().Sign(nil, []byte("msg"), crypto.Hash(0))
	if err != nil || !ed25519.Verify(k.PublicKey(), []byte("msg"), sig) {
		t.Fatalf("Sign = %x, %v; want a valid signature", sig, err)
	}
}

// TestReloginAfterSessionsClosed closes every session of the process on
// the token mid-use (the token logs out): the next operations open new
// sessions, log in once and work; Close then succeeds.
func TestReloginAfterSessionsClosed(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/one-keystore", func(t *testing.T) {
		k := openTest(t, freshKeys(t, tokLost))
		blob, err := k.Seal(ctx, []byte("aad"), []byte("share"))
		if err != nil {
			t.Fatal(err)
		}
		logins := countLogins(t, k.mod)
		closeAllSessions(t, k)
		works(t, k, blob)
		st := k.cur.Load()
		if logins.logins != 1 || logins.infos != 1 || st.gen != 1 {
			t.Fatalf("%d C_Login, %d flag reads, generation %d; want one login, generation 1", logins.logins, logins.infos, st.gen)
		}
		if l := k.mod.logins[st.tok.slot]; l == nil || l.refs != 1 {
			t.Fatalf("login share of the token = %+v, want one", l)
		}
		if !bytes.Contains(env.logs.Bytes(), []byte("token session restored")) {
			t.Error("the relogin was not logged")
		}
	})
	t.Run("ok/two-keystores-one-token", func(t *testing.T) {
		a := openTest(t, freshKeys(t, tokLost))
		b := openTest(t, freshKeys(t, tokLost))
		blobA, _ := a.Seal(ctx, []byte("aad"), []byte("share"))
		blobB, _ := b.Seal(ctx, []byte("aad"), []byte("share"))
		logins := countLogins(t, a.mod)
		closeAllSessions(t, a)
		works(t, a, blobA)
		works(t, b, blobB)
		slot := a.cur.Load().tok.slot
		if l := a.mod.logins[slot]; l == nil || l.refs != 2 || logins.logins != 2 {
			t.Fatalf("login share = %+v after %d C_Login; want two keystores sharing it", l, logins.logins)
		}
		for _, k := range []*Keystore{a, b} {
			if err := k.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if l := a.mod.logins[slot]; l != nil {
			t.Fatalf("login share %+v left after both keystores closed", l)
		}
	})
	t.Run("ok/concurrent", func(t *testing.T) {
		k := openTest(t, freshKeys(t, tokLost))
		blob, _ := k.Seal(ctx, []byte("aad"), []byte("share"))
		logins := countLogins(t, k.mod)
		var wg sync.WaitGroup
		errs := make(chan error, 8*20)
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				for range 20 {
					if _, err := k.Open(ctx, []byte("aad"), blob); err != nil {
						errs <- err
					}
				}
			})
		}
		close(start)
		closeAllSessions(t, k)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("Open while the sessions were closed: %v", err)
		}
		if logins.logins != 1 {
			t.Errorf("%d C_Login, want 1", logins.logins)
		}
	})
	t.Run("ok/close-after-sessions-closed", func(t *testing.T) {
		k, err := Open(freshKeys(t, tokLost), testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		closeAllSessions(t, k)
		if err := k.Close(); err != nil {
			t.Fatalf("Close after the sessions were closed: %v", err)
		}
	})
	t.Run("fail/token-back-with-another-seal-key", func(t *testing.T) {
		cfg := freshKeys(t, tokLost)
		k := openTest(t, cfg)
		blob, _ := k.Seal(ctx, []byte("aad"), []byte("share"))
		rw := openRW(t, cfg)
		old, err := rw.mod.findKey(rw.sh, tokLost, "seal key", p11.CKO_SECRET_KEY, cfg.SealKeyLabel)
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.mod.ctx.DestroyObject(rw.sh, old); err != nil {
			t.Fatal(err)
		}
		if _, err := rw.mod.ctx.GenerateKey(rw.sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, sealKeyTemplate(cfg.SealKeyLabel)); err != nil {
			t.Fatal(err)
		}
		logins := countLogins(t, k.mod)
		closeAllSessions(t, k)
		for i := range 2 {
			_, err := k.Open(ctx, []byte("aad"), blob)
			if !errors.Is(err, hsm.ErrKeyPolicy) || !strings.Contains(err.Error(), "does not open the self-test blob") || errors.Is(err, hsm.ErrUnseal) {
				t.Fatalf("Open %d = %v; want ErrKeyPolicy naming the changed seal key, not ErrUnseal", i, err)
			}
		}
		if logins.logins != 1 {
			t.Fatalf("%d C_Login; want one: a token back with other keys is refused for good", logins.logins)
		}
	})
}

// TestReloginRefusedPIN changes the token's PIN under an open keystore
// and closes its sessions: the relogin is refused with hsm.ErrLogin, and
// later operations fail without trying the PIN again (each wrong try
// brings an HSM closer to locking the user out).
func TestReloginRefusedPIN(t *testing.T) {
	ctx := context.Background()
	cfg := freshKeys(t, tokRePIN)
	k := openTest(t, cfg)
	const newPIN = "changed-pin-2718281828"
	rw := openRW(t, cfg)
	if err := rw.mod.ctx.SetPIN(rw.sh, env.pin, newPIN); err != nil {
		t.Fatalf("C_SetPIN: %v", err)
	}
	t.Cleanup(func() { // put the PIN back for -count=N
		c := cfg
		c.PINFile = writeFile(t, "new.pin", newPIN)
		back := openRW(t, c)
		if err := back.mod.ctx.SetPIN(back.sh, newPIN, env.pin); err != nil {
			t.Errorf("put the PIN back: %v", err)
		}
	})
	logins := countLogins(t, k.mod)
	closeAllSessions(t, k)
	for i := range 3 {
		_, err := k.Seal(ctx, nil, []byte("x"))
		if !errors.Is(err, hsm.ErrLogin) || !isRV(err, p11.CKR_PIN_INCORRECT) {
			t.Fatalf("Seal %d = %v; want ErrLogin (CKR_PIN_INCORRECT)", i, err)
		}
		if strings.Contains(err.Error(), env.pin) || strings.Contains(err.Error(), newPIN) {
			t.Fatalf("the error names a PIN: %v", err)
		}
	}
	if logins.logins != 1 {
		t.Fatalf("%d C_Login after the PIN was refused; want 1", logins.logins)
	}
}
