package hsmtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer/hsm"
)

// Concurrency of testConcurrent: more goroutines than any session pool.
const (
	workers    = 16
	iterations = 25
)

func testConcurrent(t *testing.T, ks hsm.Keystore) {
	pub := publicKey(t, ks)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range iterations {
				aad := fmt.Appendf(nil, "worker %d op %d", w, i)
				pt := randBytes(1 + (w*iterations+i)%2048)
				b, err := ks.Seal(context.Background(), aad, pt)
				if err != nil {
					t.Errorf("worker %d: Seal: %v", w, err)
					return
				}
				got, err := ks.Open(context.Background(), aad, b)
				if err != nil || !bytes.Equal(got, pt) {
					t.Errorf("worker %d: Open = %d bytes, %v; want the %d sealed", w, len(got), err, len(pt))
					return
				}
				sig, err := ks.Identity().Sign(nil, aad, crypto.Hash(0))
				if err != nil || !ed25519.Verify(pub, aad, sig) {
					t.Errorf("worker %d: Sign: %v (or bad signature)", w, err)
					return
				}
				if i%5 == 0 { // failures must not poison the keystore
					wantUnseal(t, ks, []byte("other"), b, "concurrent wrong aad")
				}
			}
		})
	}
	wg.Wait()
}

// checkClosed checks that every operation fails with ErrClosed.
func checkClosed(t *testing.T, ks hsm.Keystore, b []byte) {
	t.Helper()
	ctx := context.Background()
	if out, err := ks.Seal(ctx, nil, []byte("x")); !errors.Is(err, hsm.ErrClosed) || out != nil {
		t.Errorf("Seal after Close: err = %v, want ErrClosed", err)
	}
	if pt, err := ks.Open(ctx, nil, b); !errors.Is(err, hsm.ErrClosed) || pt != nil {
		t.Errorf("Open after Close: err = %v, want ErrClosed", err)
	}
	if sig, err := ks.Identity().Sign(nil, []byte("m"), crypto.Hash(0)); !errors.Is(err, hsm.ErrClosed) || sig != nil {
		t.Errorf("Sign after Close: err = %v, want ErrClosed", err)
	}
}

func testClosed(t *testing.T, ks hsm.Keystore) {
	b := mustSeal(t, ks, nil, []byte("x"))
	if err := ks.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkClosed(t, ks, b)
	if _, ok := ks.Identity().Public().(ed25519.PublicKey); !ok {
		t.Error("Public() after Close is not an ed25519.PublicKey")
	}
	if err := ks.Close(); !errors.Is(err, hsm.ErrClosed) {
		t.Errorf("second Close: err = %v, want ErrClosed", err)
	}
}

// testCloseWhileBusy closes the keystore under load: every operation either
// succeeds or fails with ErrClosed, and none succeeds once Close returned.
func testCloseWhileBusy(t *testing.T, ks hsm.Keystore) {
	b := mustSeal(t, ks, nil, []byte("x"))
	var closed atomic.Bool
	var ops atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				after := closed.Load()
				var err error
				switch w % 3 {
				case 0:
					_, err = ks.Seal(context.Background(), nil, []byte("x"))
				case 1:
					_, err = ks.Open(context.Background(), nil, b)
				default:
					_, err = ks.Identity().Sign(nil, []byte("m"), crypto.Hash(0))
				}
				switch {
				case err == nil && after:
					t.Errorf("worker %d: an operation started after Close returned succeeded", w)
					return
				case err == nil:
					ops.Add(1)
				case errors.Is(err, hsm.ErrClosed):
					return
				default:
					t.Errorf("worker %d: err = %v, want nil or ErrClosed", w, err)
					return
				}
			}
		})
	}
	for ops.Load() < workers {
		time.Sleep(time.Millisecond)
	}
	if err := ks.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	closed.Store(true)
	wg.Wait()
	checkClosed(t, ks, b)
}
