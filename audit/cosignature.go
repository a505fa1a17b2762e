package audit

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Cosignatures are C2SP tlog-cosignature/v1 signatures (signed-note
// algorithm 0x04): a timestamped Ed25519 signature over
// "cosignature/v1\ntime <unix seconds>\n" followed by the checkpoint, so
// standard witness tooling reads them. A node cosigns with its identity
// key (the message's prefix keeps a cosignature apart from the node's own
// checkpoint signatures, algorithm 0x01, which sign the bare checkpoint).
// Cosignatures of algorithm 0x01 in logs written before still verify.

const (
	algCosignatureV1 = 0x04
	cosignatureSize  = 8 + ed25519.SignatureSize
)

// cosignedMessage is what a cosignature at timestamp ts signs over text.
func cosignedMessage(ts uint64, text []byte) []byte {
	m := make([]byte, 0, 40+len(text))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// CosignatureKeyHash is the key ID of an Ed25519 cosigner:
// SHA-256(name ‖ "\n" ‖ 0x04 ‖ pub)[:4], big-endian.
func CosignatureKeyHash(name string, pub ed25519.PublicKey) uint32 {
	return keyID(name, algCosignatureV1, pub)
}

// CosignatureSigner is a note.Signer of cosignatures over an Ed25519
// crypto.Signer (the node's identity key in its HSM); every signature is
// checked before it is returned.
type CosignatureSigner struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
	key  crypto.Signer
	now  func() time.Time
}

var _ note.Signer = (*CosignatureSigner)(nil)

// NewCosignatureSigner returns a cosigner named name (the cosigning log's
// origin) over key; now stamps each cosignature.
func NewCosignatureSigner(name string, key crypto.Signer, now func() time.Time) (*CosignatureSigner, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("new cosigner %s: identity key is %T, want an Ed25519 key", name, key.Public())
	}
	return &CosignatureSigner{name: name, hash: CosignatureKeyHash(name, pub), pub: pub, key: key, now: now}, nil
}

// Name is the cosigner name.
func (s *CosignatureSigner) Name() string { return s.name }

// KeyHash is the cosigner's key ID.
func (s *CosignatureSigner) KeyHash() uint32 { return s.hash }

// Sign returns timestamp ‖ Ed25519 signature over the cosigned message.
func (s *CosignatureSigner) Sign(text []byte) ([]byte, error) {
	ts := uint64(max(s.now().Unix(), 0))
	m := cosignedMessage(ts, text)
	sig, err := s.key.Sign(rand.Reader, m, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("cosign as %s: %w: %w", s.name, ErrSign, err)
	}
	if !ed25519.Verify(s.pub, m, sig) {
		return nil, fmt.Errorf("cosign as %s: %w: the HSM returned a signature that does not verify", s.name, ErrSign)
	}
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, cosignatureSize), ts), sig...), nil
}

// cosignatureVerifier verifies cosignature/v1 lines of one cosigner.
type cosignatureVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(text, sig []byte) bool {
	if len(sig) != cosignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > math.MaxInt64 {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(ts, text), sig[8:])
}

// CosignatureVerifierKey is the vkey of a cosigner:
// "name+hash+base64(0x04‖pub)".
func CosignatureVerifierKey(name string, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, CosignatureKeyHash(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...)))
}

// NewCosignatureVerifier parses a cosigner vkey ("name+hash+base64(0x04‖pub)").
func NewCosignatureVerifier(vkey string) (note.Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hashHex, keyB64, ok2 := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(keyB64)
	if !ok1 || !ok2 || err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("cosigner key %.80q: %w", vkey, ErrMalformed)
	}
	pub := ed25519.PublicKey(key[1:])
	if h, err := strconv.ParseUint(hashHex, 16, 32); err != nil || len(hashHex) != 8 || uint32(h) != CosignatureKeyHash(name, pub) {
		return nil, fmt.Errorf("cosigner key %.80q: %w: key hash", vkey, ErrMalformed)
	}
	return &cosignatureVerifier{name: name, hash: CosignatureKeyHash(name, pub), pub: pub}, nil
}

// cosignatureVerifierOf derives, from a log's checkpoint vkey (algorithm
// 0x01), the verifier of the same node's cosignatures (same name and
// key, algorithm 0x04).
func cosignatureVerifierOf(vkey string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	_, keyB64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != algEd25519 {
		return nil, fmt.Errorf("verifier key %.80q: %w: not an Ed25519 note key", vkey, ErrMalformed)
	}
	pub := ed25519.PublicKey(key[1:])
	return &cosignatureVerifier{name: name, hash: CosignatureKeyHash(name, pub), pub: pub}, nil
}

// NoteVerifiers returns, for a log's checkpoint vkey, the verifier of its
// checkpoints and the verifier of its cosignatures (of other logs).
func NoteVerifiers(vkey string) ([]note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	c, err := cosignatureVerifierOf(vkey)
	if err != nil {
		return nil, err
	}
	return []note.Verifier{v, c}, nil
}
