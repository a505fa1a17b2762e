package policytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"

	"github.com/cofferhq/coffer/policy"
)

// Key is a deterministic test key pair derived from its ID.
type Key struct {
	ID     string
	Signer crypto.Signer
	Public policy.PublicKey
}

func seed(id string) []byte {
	s := sha256.Sum256([]byte("policytest/" + id))
	return s[:]
}

// Ed25519Key derives an Ed25519 key from id.
func Ed25519Key(id string) Key {
	priv := ed25519.NewKeyFromSeed(seed(id))
	pub, err := policy.PublicKeyFrom(priv.Public())
	if err != nil {
		panic(err)
	}
	return Key{ID: id, Signer: priv, Public: pub}
}

// P256Key derives an ECDSA P-256 key from id.
func P256Key(id string) Key {
	s := seed(id)
	s[0] &= 0x7f // below the group order
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), s)
	if err != nil {
		panic(err)
	}
	pub, err := policy.PublicKeyFrom(priv.Public())
	if err != nil {
		panic(err)
	}
	return Key{ID: id, Signer: priv, Public: pub}
}

// SignPolicy signs h as this admin key.
func (k Key) SignPolicy(h policy.Hash) policy.PolicySignature {
	s, err := policy.SignPolicy(rand.Reader, k.Signer, k.ID, h)
	if err != nil {
		panic(err)
	}
	return s
}

// Sign signs msg.
func (k Key) Sign(msg []byte) []byte {
	s, err := policy.Sign(rand.Reader, k.Signer, msg)
	if err != nil {
		panic(err)
	}
	return s
}
