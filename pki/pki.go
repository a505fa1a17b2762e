package pki

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Roles a certificate may carry.
const (
	RoleNode       = "node"
	RoleOperator   = "operator"
	RoleOfficer    = "officer"
	RoleWithdrawal = "withdrawal"
	RoleAuditor    = "auditor"
)

var (
	// ErrRole means a certificate carries no known role, or several.
	ErrRole = errors.New("pki: certificate has no single known role")
	// ErrPEM means a PEM file holds nothing usable.
	ErrPEM = errors.New("pki: no usable PEM block")
)

var knownRoles = map[string]bool{RoleNode: true, RoleOperator: true, RoleOfficer: true, RoleWithdrawal: true, RoleAuditor: true}

// Identity is the holder and role read from a verified certificate.
type Identity struct {
	Name string
	Role string
}

// IdentityOf reads the holder and role of a certificate.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	ous := cert.Subject.OrganizationalUnit
	if len(ous) != 1 || !knownRoles[ous[0]] || cert.Subject.CommonName == "" {
		return Identity{}, fmt.Errorf("read identity of %q: %w", cert.Subject.CommonName, ErrRole)
	}
	return Identity{Name: cert.Subject.CommonName, Role: ous[0]}, nil
}

// CA is a certificate authority: its certificate and signer.
type CA struct {
	Cert   *x509.Certificate
	Signer crypto.Signer
}

// NewCA creates a self-signed Ed25519 CA for a development cluster.
func NewCA(cluster string, validity time.Duration) (*CA, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "coffer cluster CA " + cluster, Organization: []string{"coffer"}},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{Cert: cert, Signer: priv}, priv, nil
}

// Issue signs a certificate for pub, naming holder and role. Node
// certificates are valid for both TLS server and client use.
func (ca *CA) Issue(name, role string, pub crypto.PublicKey, hosts []string, validity time.Duration) (*x509.Certificate, error) {
	if !knownRoles[role] {
		return nil, fmt.Errorf("issue certificate for %s: %w: %q", name, ErrRole, role)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, OrganizationalUnit: []string{role}, Organization: []string{"coffer"}},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if role == RoleNode {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tmpl.DNSNames = []string{name}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Signer)
	if err != nil {
		return nil, fmt.Errorf("issue certificate for %s: %w", name, err)
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// CertPEM encodes a certificate.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// ParseCertPEM decodes the first certificate of a PEM file.
func ParseCertPEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, ErrPEM
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// KeyPEM encodes a private key as PKCS#8.
func KeyPEM(k crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPEM decodes a PKCS#8 private key that can sign.
func ParseKeyPEM(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, ErrPEM
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parse private key: %w: not a signer", ErrPEM)
	}
	return s, nil
}
