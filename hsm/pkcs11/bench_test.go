package pkcs11

import (
	"context"
	"crypto"
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkSealOpen measures Seal and Open against SoftHSM, each alone and
// as a round trip from parallel goroutines sharing the session pool.
func BenchmarkSealOpen(b *testing.B) {
	k := openTest(b, testConfig(tokNode1))
	ctx := context.Background()
	aad := []byte("coffer/share/v1 node1 hot-1 1")
	for _, size := range []int{32, 4 << 10, 64 << 10} {
		pt := make([]byte, size)
		rand.Read(pt)
		blob, err := k.Seal(ctx, aad, pt)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("size=%d/seal", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := k.Seal(ctx, aad, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/open", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := k.Open(ctx, aad, blob); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/seal+open-parallel", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					blob, err := k.Seal(ctx, aad, pt)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := k.Open(ctx, aad, blob); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkIdentitySign measures one Ed25519 signature (CKM_EDDSA).
func BenchmarkIdentitySign(b *testing.B) {
	k := openTest(b, testConfig(tokNode1))
	msg := make([]byte, 128)
	for b.Loop() {
		if _, err := k.Identity().Sign(nil, msg, crypto.Hash(0)); err != nil {
			b.Fatal(err)
		}
	}
}
