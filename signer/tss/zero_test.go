package tss

import (
	"math/big"
	"testing"
)

// TestZeroIntsClearsTheLimbs: after zeroing, the words that held the
// secret are zero in the backing array itself, not only out of the slice.
func TestZeroIntsClearsTheLimbs(t *testing.T) {
	x, _ := new(big.Int).SetString("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", 16)
	w := x.Bits()
	limbs := w[:cap(w)]
	zeroInts(x)
	if x.Sign() != 0 {
		t.Fatalf("value %s after zeroing", x)
	}
	for i, l := range limbs {
		if l != 0 {
			t.Fatalf("limb %d still holds %x after zeroing", i, l)
		}
	}
	pp := &PreParams{}
	pp.P, pp.Q = big.NewInt(7), big.NewInt(11)
	p := pp.P.Bits()
	ZeroPreParams(pp)
	if p[:cap(p)][0] != 0 {
		t.Fatal("pre-parameter limbs left")
	}
}
