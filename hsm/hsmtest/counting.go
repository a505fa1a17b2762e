package hsmtest

import (
	"bytes"
	"context"
	"crypto"
	"io"
	"sync/atomic"

	"github.com/cofferhq/coffer/hsm"
)

// tls13Verify opens the content a TLS 1.3 CertificateVerify signs (RFC
// 8446 §4.4.3): 64 spaces, then the context string.
var tls13Verify = append(bytes.Repeat([]byte{0x20}, 64), "TLS 1.3, "...)

// Counting wraps a Keystore (any backend) and counts its operations, so a
// test can say which ones a code path costs. It tells apart identity
// signatures over a TLS 1.3 handshake (a CertificateVerify), which a
// node's handshakes must never cost.
type Counting struct {
	hsm.Keystore
	id countingSigner

	seals, opens atomic.Int64
}

var _ hsm.Keystore = (*Counting)(nil)

// NewCounting wraps ks.
func NewCounting(ks hsm.Keystore) *Counting {
	c := &Counting{Keystore: ks}
	c.id.Signer = ks.Identity()
	return c
}

// Identity returns the counted identity signer.
func (c *Counting) Identity() crypto.Signer { return &c.id }

// Seal counts and seals.
func (c *Counting) Seal(ctx context.Context, aad, plaintext []byte) ([]byte, error) {
	c.seals.Add(1)
	return c.Keystore.Seal(ctx, aad, plaintext)
}

// Open counts and opens.
func (c *Counting) Open(ctx context.Context, aad, blob []byte) ([]byte, error) {
	c.opens.Add(1)
	return c.Keystore.Open(ctx, aad, blob)
}

// Ops is the number of operations so far: identity signatures, seals and
// opens.
func (c *Counting) Ops() int64 { return c.id.signs.Load() + c.seals.Load() + c.opens.Load() }

// Signs is the number of identity signatures so far.
func (c *Counting) Signs() int64 { return c.id.signs.Load() }

// HandshakeSigns is the number of identity signatures over a TLS 1.3
// handshake transcript so far.
func (c *Counting) HandshakeSigns() int64 { return c.id.handshakes.Load() }

type countingSigner struct {
	crypto.Signer
	signs, handshakes atomic.Int64
}

func (s *countingSigner) Sign(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.signs.Add(1)
	if bytes.HasPrefix(msg, tls13Verify) {
		s.handshakes.Add(1)
	}
	return s.Signer.Sign(r, msg, opts)
}
