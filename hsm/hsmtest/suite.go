package hsmtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"testing"

	"github.com/cofferhq/coffer/hsm"
)

// NewKeystore makes a keystore for the suite. Every call must return a
// keystore with its own keys (a blob of one must not open in another). It
// may register its cleanup with t.Cleanup; the suite closes some keystores
// itself, so that cleanup must accept hsm.ErrClosed from Close.
type NewKeystore func(t *testing.T) hsm.Keystore

// Run checks the invariants of package hsm against a backend.
func Run(t *testing.T, newKeystore NewKeystore) {
	t.Run("ok/round-trip", func(t *testing.T) { testRoundTrip(t, newKeystore(t)) })
	t.Run("ok/seals-differ", func(t *testing.T) { testSealsDiffer(t, newKeystore(t)) })
	t.Run("fail/wrong-aad", func(t *testing.T) { testWrongAAD(t, newKeystore(t)) })
	t.Run("fail/bit-flip", func(t *testing.T) { testBitFlips(t, newKeystore(t)) })
	t.Run("fail/resized", func(t *testing.T) { testResized(t, newKeystore(t)) })
	t.Run("fail/malformed", func(t *testing.T) { testMalformed(t, newKeystore(t)) })
	t.Run("fail/other-keystore", func(t *testing.T) { testOtherKeystore(t, newKeystore(t), newKeystore(t)) })
	t.Run("fail/canceled-context", func(t *testing.T) { testCanceled(t, newKeystore(t)) })
	t.Run("ok/identity", func(t *testing.T) { testIdentity(t, newKeystore(t)) })
	t.Run("fail/identity-options", func(t *testing.T) { testIdentityOptions(t, newKeystore(t)) })
	t.Run("ok/identities-differ", func(t *testing.T) { testIdentitiesDiffer(t, newKeystore(t), newKeystore(t)) })
	t.Run("ok/concurrent", func(t *testing.T) { testConcurrent(t, newKeystore(t)) })
	t.Run("fail/closed", func(t *testing.T) { testClosed(t, newKeystore(t)) })
	t.Run("ok/close-while-busy", func(t *testing.T) { testCloseWhileBusy(t, newKeystore(t)) })
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// mustSeal seals or fails the test.
func mustSeal(t *testing.T, ks hsm.Keystore, aad, pt []byte) []byte {
	t.Helper()
	b, err := ks.Seal(context.Background(), aad, pt)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return b
}

// wantUnseal checks that Open fails with ErrUnseal and no plaintext.
func wantUnseal(t *testing.T, ks hsm.Keystore, aad, b []byte, what string) {
	t.Helper()
	pt, err := ks.Open(context.Background(), aad, b)
	if !errors.Is(err, hsm.ErrUnseal) {
		t.Errorf("%s: Open err = %v, want ErrUnseal", what, err)
	}
	if pt != nil {
		t.Errorf("%s: Open returned %d bytes of plaintext with its error", what, len(pt))
	}
}

func testRoundTrip(t *testing.T, ks hsm.Keystore) {
	for _, tc := range []struct {
		name    string
		aad, pt []byte
	}{
		{"ok/empty", []byte("coffer/test/v1 node1 key-a 1"), nil},
		{"ok/small", []byte("coffer/test/v1 node1 key-a 1"), []byte("a key share")},
		{"ok/no-aad", nil, randBytes(100)},
		{"ok/256KiB", []byte("coffer/test/v1 node1 preparams 7"), randBytes(256 << 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustSeal(t, ks, tc.aad, tc.pt)
			if len(tc.pt) > 16 && bytes.Contains(b, tc.pt[:16]) {
				t.Fatal("blob contains the plaintext")
			}
			got, err := ks.Open(context.Background(), tc.aad, b)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tc.pt) {
				t.Fatalf("Open = %d bytes, want the %d sealed", len(got), len(tc.pt))
			}
		})
	}
}

func testSealsDiffer(t *testing.T, ks hsm.Keystore) {
	aad, pt := []byte("aad"), []byte("same plaintext")
	a, b := mustSeal(t, ks, aad, pt), mustSeal(t, ks, aad, pt)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal (nonce reused)")
	}
}

func testWrongAAD(t *testing.T, ks hsm.Keystore) {
	aad := []byte("coffer/share/v1 node1 hot-1 3")
	b := mustSeal(t, ks, aad, []byte("share"))
	for _, tc := range []struct{ name, aad string }{
		{"fail/other-node", "coffer/share/v1 node2 hot-1 3"},
		{"fail/other-version", "coffer/share/v1 node1 hot-1 4"},
		{"fail/prefix", string(aad[:len(aad)-1])},
		{"fail/extended", string(aad) + "0"},
		{"fail/empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) { wantUnseal(t, ks, []byte(tc.aad), b, tc.name) })
	}
	b = mustSeal(t, ks, nil, []byte("share"))
	t.Run("fail/added", func(t *testing.T) { wantUnseal(t, ks, aad, b, "aad added") })
}

func testBitFlips(t *testing.T, ks hsm.Keystore) {
	aad := []byte("aad")
	b := mustSeal(t, ks, aad, randBytes(32))
	for i := range len(b) * 8 {
		m := bytes.Clone(b)
		m[i/8] ^= 1 << (i % 8)
		wantUnseal(t, ks, aad, m, "flip of bit "+strconv.Itoa(i))
	}
}

func testResized(t *testing.T, ks hsm.Keystore) {
	aad := []byte("aad")
	b := mustSeal(t, ks, aad, randBytes(8))
	for n := range len(b) {
		wantUnseal(t, ks, aad, b[:n], "blob cut to "+strconv.Itoa(n)+" bytes")
	}
	wantUnseal(t, ks, aad, append(bytes.Clone(b), 0), "blob with a byte appended")
}

func testMalformed(t *testing.T, ks hsm.Keystore) {
	b := mustSeal(t, ks, nil, []byte("x"))
	for _, tc := range []struct {
		name string
		blob []byte
	}{
		{"fail/nil", nil},
		{"fail/short", b[:5]},
		{"fail/version-0", append([]byte{0}, b[1:]...)},
		{"fail/version-255", append([]byte{255}, b[1:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := ks.Open(context.Background(), nil, tc.blob)
			if !errors.Is(err, hsm.ErrMalformedBlob) || !errors.Is(err, hsm.ErrUnseal) || pt != nil {
				t.Fatalf("Open = %d bytes, %v; want ErrMalformedBlob (an ErrUnseal)", len(pt), err)
			}
		})
	}
}

func testOtherKeystore(t *testing.T, a, b hsm.Keystore) {
	aad := []byte("coffer/share/v1 node1 hot-1 1")
	blob := mustSeal(t, a, aad, []byte("share of node1"))
	wantUnseal(t, b, aad, blob, "blob of another keystore")
	if _, err := a.Open(context.Background(), aad, blob); err != nil {
		t.Fatalf("Open on the sealing keystore: %v", err)
	}
}

func testCanceled(t *testing.T, ks hsm.Keystore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := mustSeal(t, ks, nil, []byte("x"))
	if _, err := ks.Seal(ctx, nil, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Seal with canceled context: err = %v, want context.Canceled", err)
	}
	if pt, err := ks.Open(ctx, nil, b); !errors.Is(err, context.Canceled) || pt != nil {
		t.Errorf("Open with canceled context: err = %v, want context.Canceled", err)
	}
}
