package tss

import (
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/crypto"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// The curve values in peer messages: secp256k1 scalars and points, hash
// commitments and their openings, Paillier ciphertexts.

var secp256k1N = tsslib.S256().Params().N

// checkScalar checks a value tss-lib multiplies the generator or a point
// by: in [1, q). tss-lib's ScalarBaseMult and ScalarMult panic when the
// product is the point at infinity, that is on a multiple of q; a keygen
// share checks in a goroutine of round 3.
func checkScalar(name string, b []byte) error {
	k := new(big.Int).SetBytes(b)
	if k.Sign() == 0 || k.Cmp(secp256k1N) >= 0 {
		return fmt.Errorf("%s is not in [1, q)", name)
	}
	return nil
}

// checkBelowOrder checks a value an honest party reduces mod q.
func checkBelowOrder(name string, b []byte) error {
	if new(big.Int).SetBytes(b).Cmp(secp256k1N) >= 0 {
		return fmt.Errorf("%s is not below q", name)
	}
	return nil
}

// checkPoint checks that (x, y) is a point of secp256k1, coordinates
// below the field prime.
func checkPoint(name string, x, y []byte) error {
	if _, err := crypto.NewECPoint(tsslib.S256(), new(big.Int).SetBytes(x), new(big.Int).SetBytes(y)); err != nil {
		return fmt.Errorf("%s is not a curve point", name)
	}
	return nil
}

// checkHash checks a hash commitment: a SHA-512/256 output.
func checkHash(name string, b []byte) error {
	if n := new(big.Int).SetBytes(b).BitLen(); n > 256 {
		return fmt.Errorf("%s has %d bits, not a hash", name, n)
	}
	return nil
}

// checkSSID checks a resharing SSID, compared byte for byte with the other
// old parties': a SHA-512/256 output as big.Int.Bytes gives it.
func checkSSID(b []byte) error {
	if len(b) == 0 || len(b) > 32 {
		return fmt.Errorf("SSID has %d bytes, not a hash", len(b))
	}
	return nil
}

// checkDecommitment checks the opening of a hash commitment to points, as
// every one in keygen, signing and resharing is: the 256-bit randomness,
// then the points' coordinates in pairs.
func checkDecommitment(name string, bzs [][]byte) error {
	if len(bzs) < 3 || len(bzs)%2 == 0 {
		return fmt.Errorf("%s has %d elements, not randomness and points", name, len(bzs))
	}
	if err := checkHash(name+" randomness", bzs[0]); err != nil {
		return err
	}
	for i := 1; i < len(bzs); i += 2 {
		if err := checkPoint(fmt.Sprintf("%s point %d", name, i/2), bzs[i], bzs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// checkCiphertext checks a Paillier ciphertext: in [1, N²) for a modulus
// of modulusBits bits.
func checkCiphertext(name string, b []byte) error {
	c := new(big.Int).SetBytes(b)
	if c.Sign() == 0 || c.BitLen() > 2*modulusBits {
		return fmt.Errorf("%s is not a Paillier ciphertext", name)
	}
	return nil
}
