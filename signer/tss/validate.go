package tss

import (
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/resharing"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// modulusBits is the length tss-lib gives every Paillier modulus and
// every NTilde (two 1024-bit primes).
const modulusBits = 2048

// checkContent refuses a peer's message carrying values tss-lib would hand
// to a function that panics, in a goroutine tss-lib starts itself where no
// recover of ours reaches. tss-lib v3.0.0 (and v2.0.2) verify a Paillier
// modulus proof with big.Jacobi before checking the modulus is odd, and
// big.Jacobi panics on an even modulus: one such message from one party
// would stop every honest process. So the moduli and the ring-Pedersen
// parameters a peer announces are checked here, before tss-lib sees them.
func checkContent(msg tsslib.ParsedMessage) error {
	switch c := msg.Content().(type) {
	case *keygen.KGRound1Message:
		return checkRingParams(c.GetPaillierN(), c.GetNTilde(), c.GetH1(), c.GetH2())
	case *resharing.DGRound2Message1:
		return checkRingParams(c.GetPaillierN(), c.GetNTilde(), c.GetH1(), c.GetH2())
	}
	return nil
}

// checkRingParams checks a Paillier modulus N and ring-Pedersen
// parameters (NTilde, h1, h2) as tss-lib generates them: moduli of
// exactly modulusBits bits, odd and composite; h1 and h2 in [2, NTilde)
// and distinct.
func checkRingParams(n, nTilde, h1, h2 []byte) error {
	N, NT := new(big.Int).SetBytes(n), new(big.Int).SetBytes(nTilde)
	if err := checkModulus("Paillier modulus", N); err != nil {
		return err
	}
	if err := checkModulus("NTilde", NT); err != nil {
		return err
	}
	H1, H2 := new(big.Int).SetBytes(h1), new(big.Int).SetBytes(h2)
	two := big.NewInt(2)
	for name, h := range map[string]*big.Int{"h1": H1, "h2": H2} {
		if h.Cmp(two) < 0 || h.Cmp(NT) >= 0 {
			return fmt.Errorf("%s is outside [2, NTilde)", name)
		}
	}
	if H1.Cmp(H2) == 0 {
		return fmt.Errorf("h1 equals h2")
	}
	return nil
}

func checkModulus(name string, m *big.Int) error {
	switch {
	case m.BitLen() != modulusBits:
		return fmt.Errorf("%s has %d bits, not %d", name, m.BitLen(), modulusBits)
	case m.Bit(0) == 0:
		return fmt.Errorf("%s is even", name)
	case m.ProbablyPrime(2):
		return fmt.Errorf("%s is prime", name)
	}
	return nil
}
