package tss

import (
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/crypto/facproof"
	"github.com/bnb-chain/tss-lib/v3/crypto/modproof"
	"github.com/bnb-chain/tss-lib/v3/crypto/mta"
	"github.com/bnb-chain/tss-lib/v3/crypto/paillier"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/keygen"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/resharing"
	"github.com/bnb-chain/tss-lib/v3/ecdsa/signing"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
)

// modulusBits is the length tss-lib gives every Paillier modulus and
// every NTilde (two 1024-bit primes).
const modulusBits = 2048

// checkContent refuses a peer's message carrying values tss-lib would hand
// to a function that panics, in a goroutine tss-lib starts itself where no
// recover of ours reaches: one such message from one party would stop
// every honest process. tss-lib v3.0.0 (and v2.0.2) verify
//   - a Paillier modulus proof with big.Jacobi before checking the modulus
//     is odd, and big.Jacobi panics on an even modulus;
//   - a DLN proof after reading its length prefixes with big.Int.Int64, so
//     a prefix of 2^63 or more is a negative length, and slicing panics;
//   - a keygen share with ScalarBaseMult, which panics on a multiple of the
//     group order (the point at infinity is "not on the curve");
//   - Bob's MtA proof with check likewise on s1 mod q.
//
// The hostile-peer harness (fuzz_test.go) found the last three, and the
// same ScalarMult panic on a Schnorr proof's t or u, or a resharing share,
// of 0 mod q: those run in the goroutine that delivers the message, where
// our recover catches them. So every round message of keygen, signing and
// resharing is checked here, before tss-lib sees it, for its shape:
// proofs with their number of elements, numbers no longer than any honest
// party sends (a 512 KiB proof element as an exponent kept a verifier busy
// for 25 s), points on the curve, scalars in range. tss-lib still checks
// what a proof proves.
func checkContent(msg tsslib.ParsedMessage) error {
	if err := checkFields(msg.Content()); err != nil {
		return fmt.Errorf("%s: %w", shortType(msg.Type()), err)
	}
	return nil
}

func checkFields(content tsslib.MessageContent) error {
	switch c := content.(type) {
	// keygen
	case *keygen.KGRound1Message:
		return firstErr(
			checkRingParams(c.GetPaillierN(), c.GetNTilde(), c.GetH1(), c.GetH2()),
			checkHash("commitment", c.GetCommitment()),
			checkDLNProof("DLN proof 1", c.GetDlnproof_1()),
			checkDLNProof("DLN proof 2", c.GetDlnproof_2()))
	case *keygen.KGRound2Message1:
		return firstErr(
			checkScalar("share", c.GetShare()),
			checkNumbers("factorization proof", c.GetFacProof(), facproof.ProofFacBytesParts, maxNumberBits))
	case *keygen.KGRound2Message2:
		return firstErr(
			checkDecommitment("de-commitment", c.GetDeCommitment()),
			checkNumbers("modulus proof", c.GetModProof(), modproof.ProofModBytesParts, modulusBits))
	case *keygen.KGRound3Message:
		return checkNumbers("Paillier proof", c.GetPaillierProof(), paillier.ProofIters, modulusBits)

	// signing
	case *signing.SignRound1Message1:
		return firstErr(
			checkCiphertext("c", c.GetC()),
			checkNumbers("range proof", c.GetRangeProofAlice(), mta.RangeProofAliceBytesParts, maxNumberBits))
	case *signing.SignRound1Message2:
		return checkHash("commitment", c.GetCommitment())
	case *signing.SignRound2Message:
		return firstErr(
			checkCiphertext("c1", c.GetC1()),
			checkCiphertext("c2", c.GetC2()),
			checkNumbers("Bob's proof", c.GetProofBob(), mta.ProofBobBytesParts, maxNumberBits),
			checkProofBobWC(c.GetProofBobWc()))
	case *signing.SignRound3Message:
		return checkBelowOrder("theta", c.GetTheta())
	case *signing.SignRound4Message:
		return firstErr(
			checkDecommitment("de-commitment", c.GetDeCommitment()),
			checkPoint("proof alpha", c.GetProofAlphaX(), c.GetProofAlphaY()),
			checkScalar("proof t", c.GetProofT()))
	case *signing.SignRound5Message:
		return checkHash("commitment", c.GetCommitment())
	case *signing.SignRound6Message:
		return firstErr(
			checkDecommitment("de-commitment", c.GetDeCommitment()),
			checkPoint("proof alpha", c.GetProofAlphaX(), c.GetProofAlphaY()),
			checkScalar("proof t", c.GetProofT()),
			checkPoint("V proof alpha", c.GetVProofAlphaX(), c.GetVProofAlphaY()),
			checkScalar("V proof t", c.GetVProofT()),
			checkScalar("V proof u", c.GetVProofU()))
	case *signing.SignRound7Message:
		return checkHash("commitment", c.GetCommitment())
	case *signing.SignRound8Message:
		return checkDecommitment("de-commitment", c.GetDeCommitment())
	case *signing.SignRound9Message:
		return checkBelowOrder("s", c.GetS())

	// resharing (DGRound2Message2 and DGRound4Message2 carry nothing)
	case *resharing.DGRound1Message:
		return firstErr(
			checkPoint("public key", c.GetEcdsaPubX(), c.GetEcdsaPubY()),
			checkHash("commitment", c.GetVCommitment()),
			checkSSID(c.GetSsid()))
	case *resharing.DGRound2Message1:
		return firstErr(
			checkRingParams(c.GetPaillierN(), c.GetNTilde(), c.GetH1(), c.GetH2()),
			checkNumbers("modulus proof", c.GetModProof(), modproof.ProofModBytesParts, modulusBits),
			checkDLNProof("DLN proof 1", c.GetDlnproof_1()),
			checkDLNProof("DLN proof 2", c.GetDlnproof_2()))
	case *resharing.DGRound3Message1:
		return checkScalar("share", c.GetShare())
	case *resharing.DGRound3Message2:
		return checkDecommitment("de-commitment", c.GetVDecommitment())
	case *resharing.DGRound4Message1:
		return checkNumbers("factorization proof", c.GetFacProof(), facproof.ProofFacBytesParts, maxNumberBits)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
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
