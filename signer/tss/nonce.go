package tss

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
)

// Session nonces (tss-lib v3 Parameters.SetSessionNonce) are mixed into the
// SSID of every proof of a session, so a proof made in one session cannot
// be replayed into another. Every party derives the nonce itself, under a
// domain tag per protocol, from what the session already binds: the
// cluster, the key ID and generation, the session ID (which each node
// recomputes from the session spec), and the protocol's own content (the
// digest signed, the keygen or reshare ceremony's terms). No party chooses
// it: a party that used another nonce fails the others' proof checks and
// is named as the culprit.
const (
	nonceKeygen  = "coffer/tss-nonce/keygen/v1"
	nonceSign    = "coffer/tss-nonce/sign/v1"
	nonceReshare = "coffer/tss-nonce/reshare/v1"
)

// nonceBuilder length-prefixes every field, so no two field lists encode
// alike.
type nonceBuilder struct{ b []byte }

func newNonce(tag, cluster, keyID string, generation uint32, sessionID []byte) *nonceBuilder {
	nb := &nonceBuilder{}
	nb.bytes([]byte(tag))
	nb.bytes([]byte(cluster))
	nb.bytes([]byte(keyID))
	nb.uint(uint64(generation))
	nb.bytes(sessionID)
	return nb
}

func (nb *nonceBuilder) bytes(b []byte) *nonceBuilder {
	nb.b = binary.BigEndian.AppendUint32(nb.b, uint32(len(b)))
	nb.b = append(nb.b, b...)
	return nb
}

func (nb *nonceBuilder) uint(v uint64) *nonceBuilder {
	nb.b = binary.BigEndian.AppendUint64(nb.b, v)
	return nb
}

// nodes adds a node list in sorted order: the same set encodes alike
// whatever order a caller listed it in.
func (nb *nonceBuilder) nodes(ns []string) *nonceBuilder {
	s := sortedNodes(ns)
	nb.uint(uint64(len(s)))
	for _, n := range s {
		nb.bytes([]byte(n))
	}
	return nb
}

func (nb *nonceBuilder) path(p []uint32) *nonceBuilder {
	nb.uint(uint64(len(p)))
	for _, i := range p {
		nb.uint(uint64(i))
	}
	return nb
}

func (nb *nonceBuilder) sum() *big.Int {
	h := sha256.Sum256(nb.b)
	return new(big.Int).SetBytes(h[:])
}

// KeygenNonce is the session nonce of a keygen: it binds the ceremony's
// terms (threshold and committee).
func KeygenNonce(cluster, keyID string, sessionID []byte, threshold int, nodes []string) *big.Int {
	return newNonce(nonceKeygen, cluster, keyID, 0, sessionID).uint(uint64(threshold)).nodes(nodes).sum()
}

// SignNonce is the session nonce of a signing: it binds the digest, the
// signers and the derivation path.
func SignNonce(cluster, keyID string, generation uint32, sessionID []byte, digest [32]byte, signers []string, path []uint32) *big.Int {
	return newNonce(nonceSign, cluster, keyID, generation, sessionID).bytes(digest[:]).nodes(signers).path(path).sum()
}

// ReshareNonce is the session nonce of a reshare from generation g: it
// binds the old and new committees and thresholds.
func ReshareNonce(cluster, keyID string, oldGeneration uint32, sessionID []byte, oldThreshold int, oldSigners []string, newThreshold int, newNodes []string) *big.Int {
	return newNonce(nonceReshare, cluster, keyID, oldGeneration, sessionID).
		uint(uint64(oldThreshold)).nodes(oldSigners).uint(uint64(newThreshold)).nodes(newNodes).sum()
}
