package audit

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// algEd25519 is the signed-note algorithm byte of Ed25519 keys.
const algEd25519 = 0x01

// NoteSigner is a note.Signer over an Ed25519 crypto.Signer, typically the
// node's identity key inside its HSM (hsm.Keystore.Identity): the private
// key never leaves the HSM. Every signature is checked against the public
// key before it is returned, so a faulty HSM cannot make the log write a
// checkpoint that does not verify.
type NoteSigner struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
	key  crypto.Signer
	vkey string
}

var _ note.Signer = (*NoteSigner)(nil)

// NewNoteSigner returns a note signer named name (the log origin) over key,
// whose Public() must be an ed25519.PublicKey.
func NewNoteSigner(name string, key crypto.Signer) (*NoteSigner, error) {
	if key == nil {
		return nil, errors.New("new note signer: missing identity key")
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("new note signer %s: identity key is %T, want an Ed25519 key", name, key.Public())
	}
	vkey, err := VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("new note signer: %w", err)
	}
	return &NoteSigner{name: name, hash: KeyHash(name, pub), pub: pub, key: key, vkey: vkey}, nil
}

// Name is the key name (the log origin).
func (s *NoteSigner) Name() string { return s.name }

// KeyHash is the signed-note key hash of the key.
func (s *NoteSigner) KeyHash() uint32 { return s.hash }

// Public is the Ed25519 public key.
func (s *NoteSigner) Public() ed25519.PublicKey { return s.pub }

// VerifierKey is the encoded verifier key, "name+hash+base64(0x01‖pub)",
// for note.NewVerifier and trust files.
func (s *NoteSigner) VerifierKey() string { return s.vkey }

// Sign signs msg with pure Ed25519 in the HSM.
func (s *NoteSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := s.key.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("sign note as %s: %w: %w", s.name, ErrSign, err)
	}
	if !ed25519.Verify(s.pub, msg, sig) {
		return nil, fmt.Errorf("sign note as %s: %w: the HSM returned a signature that does not verify", s.name, ErrSign)
	}
	return sig, nil
}

// KeyHash computes the signed-note key hash of an Ed25519 key: the first 4
// bytes (big-endian) of SHA-256(name ‖ "\n" ‖ 0x01 ‖ pub).
func KeyHash(name string, pub ed25519.PublicKey) uint32 { return keyID(name, algEd25519, pub) }

// keyID is the signed-note key ID of a key of algorithm alg: the first 4
// bytes (big-endian) of SHA-256(name ‖ "\n" ‖ alg ‖ key).
func keyID(name string, alg byte, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', alg})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// VerifierKey encodes an Ed25519 public key as a note verifier key,
// "name+hash+base64(0x01‖pub)". The result parses with note.NewVerifier.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return "", fmt.Errorf("encode verifier key %s: %w", name, err)
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		return "", fmt.Errorf("encode verifier key %.70q: %w", name, err)
	}
	return vkey, nil
}
