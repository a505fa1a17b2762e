package tss

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/bnb-chain/tss-lib/v3/crypto/ckd"
	tsslib "github.com/bnb-chain/tss-lib/v3/tss"
	"github.com/btcsuite/btcd/chaincfg"
)

// ChainCode is the BIP-32 chain code of a threshold key: derived from its
// public key, so every node computes the same one itself. Only public
// (non-hardened) derivation exists for a threshold key, and no child
// private key is ever assembled, so the chain code needs no secrecy.
func ChainCode(pubCompressed []byte) []byte {
	h := sha256.New()
	h.Write([]byte("coffer/chaincode/v1\x00"))
	h.Write(pubCompressed)
	return h.Sum(nil)
}

// Derive computes the non-hardened child of pub along path: the additive
// delta to apply to the shares and the child public key. An empty path
// returns a zero delta and pub itself.
func Derive(pub *ecdsa.PublicKey, chainCode []byte, path []uint32) (*big.Int, *ecdsa.PublicKey, error) {
	if len(path) == 0 {
		return big.NewInt(0), pub, nil
	}
	for _, i := range path {
		if i >= 1<<31 {
			return nil, nil, fmt.Errorf("derive %v: %w", path, ErrHardenedPath)
		}
	}
	ec := tsslib.S256()
	parent := &ckd.ExtendedKey{
		PublicKey:  ecdsa.PublicKey{Curve: ec, X: pub.X, Y: pub.Y},
		ChainCode:  chainCode,
		ParentFP:   []byte{0, 0, 0, 0},
		Version:    chaincfg.MainNetParams.HDPublicKeyID[:],
		Depth:      0,
		ChildIndex: 0,
	}
	delta, child, err := ckd.DeriveChildKeyFromHierarchy(path, parent, ec.Params().N, ec)
	if err != nil {
		return nil, nil, fmt.Errorf("derive %v: %w", path, err)
	}
	cp := child.PublicKey
	return delta, &cp, nil
}
