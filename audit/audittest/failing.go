// Package audittest has fakes for tests of code that writes the audit
// log: a keystore whose identity key fails on demand, to show that a node
// fails closed when its HSM cannot sign checkpoints.
package audittest

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/cofferhq/coffer/hsm"
)

// ErrInjected is the error of a signature FailingKeystore refuses.
var ErrInjected = errors.New("audittest: injected HSM signing failure")

// FailingKeystore wraps an hsm.Keystore. While failing is on, its identity
// signer returns ErrInjected; everything else passes through. It is safe
// for concurrent use.
type FailingKeystore struct {
	hsm.Keystore
	failing atomic.Bool
	signs   atomic.Int64
}

var _ hsm.Keystore = (*FailingKeystore)(nil)

// NewFailingKeystore wraps k, not failing.
func NewFailingKeystore(k hsm.Keystore) *FailingKeystore { return &FailingKeystore{Keystore: k} }

// FailSign turns signing failures on or off.
func (f *FailingKeystore) FailSign(on bool) { f.failing.Store(on) }

// Signs is the number of successful identity signatures.
func (f *FailingKeystore) Signs() int64 { return f.signs.Load() }

// Identity returns the wrapped identity signer, failing while FailSign is
// on.
func (f *FailingKeystore) Identity() crypto.Signer {
	return &failingSigner{f: f, inner: f.Keystore.Identity()}
}

type failingSigner struct {
	f     *FailingKeystore
	inner crypto.Signer
}

func (s *failingSigner) Public() crypto.PublicKey { return s.inner.Public() }

func (s *failingSigner) Sign(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.f.failing.Load() {
		return nil, fmt.Errorf("sign with identity key: %w", ErrInjected)
	}
	sig, err := s.inner.Sign(r, msg, opts)
	if err == nil {
		s.f.signs.Add(1)
	}
	return sig, err
}
