package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrRevoked means a certificate is on a revocation list.
var ErrRevoked = errors.New("pki: certificate revoked")

// maxSerialBytes is RFC 5280's bound on a serial number.
const maxSerialBytes = 20

// Revocations is a deny-list of certificates the cluster CA issued that
// operators withdrew, by serial number or by the SHA-256 of the
// certificate's SubjectPublicKeyInfo (which revokes every certificate of
// that key). It is immutable; a nil *Revocations revokes nothing.
type Revocations struct {
	serials map[string]bool // lower-case hex of the serial's value
	spki    map[[sha256.Size]byte]bool
}

// NewRevocations parses serial numbers and SPKI SHA-256 hashes written in
// hex (colons between bytes allowed, as `openssl x509 -text` prints them).
// It reports every malformed or repeated entry at once.
func NewRevocations(serials, spkiSHA256 []string) (*Revocations, error) {
	r := &Revocations{serials: map[string]bool{}, spki: map[[sha256.Size]byte]bool{}}
	var errs []error
	for i, s := range serials {
		b, err := hexBytes(s)
		if err != nil || len(b) == 0 || len(b) > maxSerialBytes {
			errs = append(errs, fmt.Errorf("serials[%d]: %q is not a hex serial number of 1 to %d bytes", i, s, maxSerialBytes))
			continue
		}
		key := new(big.Int).SetBytes(b).Text(16)
		if r.serials[key] {
			errs = append(errs, fmt.Errorf("serials[%d]: %q is listed twice", i, s))
		}
		r.serials[key] = true
	}
	for i, s := range spkiSHA256 {
		b, err := hexBytes(s)
		if err != nil || len(b) != sha256.Size {
			errs = append(errs, fmt.Errorf("spki_sha256[%d]: %q is not %d hex bytes", i, s, sha256.Size))
			continue
		}
		key := [sha256.Size]byte(b)
		if r.spki[key] {
			errs = append(errs, fmt.Errorf("spki_sha256[%d]: %q is listed twice", i, s))
		}
		r.spki[key] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func hexBytes(s string) ([]byte, error) {
	return hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
}

// Len is the number of entries.
func (r *Revocations) Len() int {
	if r == nil {
		return 0
	}
	return len(r.serials) + len(r.spki)
}

// Check refuses a revoked certificate with an error wrapping ErrRevoked
// that names it.
func (r *Revocations) Check(c *x509.Certificate) error {
	if r == nil || c == nil {
		return nil
	}
	if c.SerialNumber != nil && r.serials[c.SerialNumber.Text(16)] {
		return fmt.Errorf("%w: %q (serial %s)", ErrRevoked, c.Subject.CommonName, SerialHex(c))
	}
	if r.spki[SPKIHash(c)] {
		return fmt.Errorf("%w: %q (its key, SPKI SHA-256 %x)", ErrRevoked, c.Subject.CommonName, SPKIHash(c))
	}
	return nil
}

// SerialHex is a certificate's serial number as a revocation list takes
// it (and as `openssl x509 -noout -serial` prints it, in lower case).
func SerialHex(c *x509.Certificate) string { return hex.EncodeToString(c.SerialNumber.Bytes()) }

// SPKIHash is the SHA-256 of a certificate's SubjectPublicKeyInfo.
func SPKIHash(c *x509.Certificate) [sha256.Size]byte { return sha256.Sum256(c.RawSubjectPublicKeyInfo) }
