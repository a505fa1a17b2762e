package signer

import (
	"fmt"

	"github.com/cofferhq/coffer/pki"
)

// RevokedConfig is the certificate deny-list, in hex: serial numbers (as
// `openssl x509 -noout -serial` or `coffer cert show` print them) and
// SHA-256 hashes of SubjectPublicKeyInfo (revoking every certificate of a
// key).
type RevokedConfig struct {
	Serials    []string `yaml:"serials,omitempty"`
	SPKISHA256 []string `yaml:"spki_sha256,omitempty"`
}

// Revocations parses the deny-list (Validate reports its errors).
func (c *Config) Revocations() (*pki.Revocations, error) {
	r, err := pki.NewRevocations(c.TLS.Revoked.Serials, c.TLS.Revoked.SPKISHA256)
	if err != nil {
		return nil, fmt.Errorf("tls.revoked: %w", err)
	}
	return r, nil
}
