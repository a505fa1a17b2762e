package hsmtest

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/cofferhq/coffer/hsm"
	"github.com/cofferhq/coffer/hsm/internal/blob"
)

// Memory is an in-memory hsm.Keystore for tests. It is safe for concurrent
// use.
type Memory struct {
	aead cipher.AEAD
	id   *memorySigner

	mu     sync.RWMutex
	closed bool
}

var _ hsm.Keystore = (*Memory)(nil)

// NewMemory returns a Memory keystore with fresh random keys.
func NewMemory() *Memory {
	var seal [32]byte
	rand.Read(seal[:])
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	m, _ := NewMemoryWithKeys(seal[:], priv)
	return m
}

// NewMemoryWithKeys returns a Memory keystore with the given AES-256 sealing
// key and Ed25519 identity key, for tests that reopen a "node" and expect
// its blobs to open and its public key to stay.
func NewMemoryWithKeys(sealKey []byte, identity ed25519.PrivateKey) (*Memory, error) {
	if len(sealKey) != 32 {
		return nil, fmt.Errorf("new memory keystore: seal key is %d bytes, want 32", len(sealKey))
	}
	if len(identity) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("new memory keystore: identity key is %d bytes, want %d", len(identity), ed25519.PrivateKeySize)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("new memory keystore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new memory keystore: %w", err)
	}
	m := &Memory{aead: aead}
	m.id = &memorySigner{m: m, priv: append(ed25519.PrivateKey(nil), identity...)}
	return m, nil
}

// Seal encrypts plaintext with AES-256-GCM and a random nonce.
func (m *Memory) Seal(ctx context.Context, aad, plaintext []byte) ([]byte, error) {
	if err := m.check(ctx); err != nil {
		return nil, fmt.Errorf("seal in memory keystore: %w", err)
	}
	nonce := make([]byte, blob.NonceSize)
	rand.Read(nonce)
	return blob.Join(nonce, m.aead.Seal(nil, nonce, plaintext, aad)), nil
}

// Open reverses Seal; any mismatch yields an error wrapping hsm.ErrUnseal.
func (m *Memory) Open(ctx context.Context, aad, sealed []byte) ([]byte, error) {
	if err := m.check(ctx); err != nil {
		return nil, fmt.Errorf("unseal in memory keystore: %w", err)
	}
	nonce, ct, err := blob.Split(sealed)
	if err != nil {
		return nil, fmt.Errorf("unseal in memory keystore: %w", err)
	}
	pt, err := m.aead.Open([]byte{}, nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("unseal in memory keystore: %w", hsm.ErrUnseal)
	}
	return pt, nil
}

// Identity returns the identity signer (pure Ed25519 only).
func (m *Memory) Identity() crypto.Signer { return m.id }

// Close makes every later call fail with hsm.ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return hsm.ErrClosed
	}
	m.closed = true
	return nil
}

func (m *Memory) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return hsm.ErrClosed
	}
	return nil
}

// LogValue and Format keep the keys out of logs and messages (fmt would
// print the AES key schedule of a bad verb's pointer target).
func (m *Memory) LogValue() slog.Value       { return slog.StringValue("REDACTED") }
func (m *Memory) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }

var (
	_ slog.LogValuer = (*Memory)(nil)
	_ fmt.Formatter  = (*Memory)(nil)
	_ slog.LogValuer = (*memorySigner)(nil)
	_ fmt.Formatter  = (*memorySigner)(nil)
)

type memorySigner struct {
	m    *Memory
	priv ed25519.PrivateKey
}

// LogValue and Format keep the private key out of logs and messages.
func (s *memorySigner) LogValue() slog.Value       { return slog.StringValue("REDACTED") }
func (s *memorySigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "REDACTED") }

func (s *memorySigner) Public() crypto.PublicKey { return s.priv.Public() }

func (s *memorySigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.m.check(context.Background()); err != nil {
		return nil, fmt.Errorf("sign in memory keystore: %w", err)
	}
	if opts == nil || opts.HashFunc() != 0 {
		return nil, errors.New("sign in memory keystore: only pure Ed25519 (crypto.Hash(0)) is supported")
	}
	if o, ok := opts.(*ed25519.Options); ok && o.Context != "" {
		return nil, errors.New("sign in memory keystore: Ed25519ctx is not supported")
	}
	return ed25519.Sign(s.priv, msg), nil
}
