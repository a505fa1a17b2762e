package tss

import (
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/crypto/dlnproof"
	"github.com/bnb-chain/tss-lib/v3/crypto/mta"
)

// The shape of the zero-knowledge proofs in peer messages: tss-lib reads
// proofs element by element and checks what they prove; it does not
// always check first how many elements there are, or how long they are.

// maxNumberBits bounds every number in a proof. The longest an honest
// party sends is the factorization proof's v, below q³·N0·NTilde (about
// 2^4864); tss-lib raises bases to proof elements, so an unbounded one
// makes a verification run for as long as the message is big.
const maxNumberBits = 5120

// checkNumbers checks a proof of want numbers, each present and at most
// maxBits long: modulusBits for one of numbers mod a modulus (DLN,
// modulus and Paillier proofs), maxNumberBits for the others.
func checkNumbers(name string, bzs [][]byte, want, maxBits int) error {
	if len(bzs) != want {
		return fmt.Errorf("%s has %d elements, not %d", name, len(bzs), want)
	}
	for i, b := range bzs {
		if len(b) == 0 {
			return fmt.Errorf("%s element %d is empty", name, i)
		}
		if n := new(big.Int).SetBytes(b).BitLen(); n > maxBits {
			return fmt.Errorf("%s element %d has %d bits", name, i, n)
		}
	}
	return nil
}

// checkDLNProof checks a DLN proof as tss-lib serializes it: a length
// prefix, the α values, a length prefix, the t values. tss-lib parses the
// prefixes with big.Int.Int64 and slices by them: a prefix of 2^63 or
// more reads as negative and the slice panics, in the goroutine that
// verifies the proof.
func checkDLNProof(name string, bzs [][]byte) error {
	if err := checkNumbers(name, bzs, 2+2*dlnproof.Iterations, modulusBits); err != nil {
		return err
	}
	iterations := big.NewInt(dlnproof.Iterations)
	for _, i := range []int{0, 1 + dlnproof.Iterations} {
		if new(big.Int).SetBytes(bzs[i]).Cmp(iterations) != 0 {
			return fmt.Errorf("%s length prefix %d is not %d", name, i, dlnproof.Iterations)
		}
	}
	return nil
}

// checkProofBobWC checks Bob's MtA proof with check: Bob's proof, then the
// point U; tss-lib verifies it with ScalarBaseMult(s1 mod q), which
// panics when s1 is a multiple of q, in a goroutine of signing round 3.
func checkProofBobWC(bzs [][]byte) error {
	const name = "Bob's proof with check"
	if err := checkNumbers(name, bzs, mta.ProofBobWCBytesParts, maxNumberBits); err != nil {
		return err
	}
	if err := checkPoint(name+" u", bzs[10], bzs[11]); err != nil {
		return err
	}
	if s1 := new(big.Int).SetBytes(bzs[6]); s1.Mod(s1, secp256k1N).Sign() == 0 {
		return fmt.Errorf("%s s1 is a multiple of q", name)
	}
	return nil
}
