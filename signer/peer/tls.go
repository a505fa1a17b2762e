package peer

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// Credentials are a node's TLS identity: its certificate (whose key is the
// HSM identity key), the HSM signer, and the cluster CA.
type Credentials struct {
	Cert   *x509.Certificate
	Signer crypto.Signer
	CA     *x509.Certificate
}

func (c Credentials) certificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Signer, Leaf: c.Cert}
}

func (c Credentials) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.CA)
	return p
}

// ServerTLS accepts only cluster members.
func ServerTLS(c Credentials, m Membership) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.certificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    c.pool(),
		VerifyConnection: func(cs tls.ConnectionState) error {
			if _, err := m.verify(cs, ""); err != nil {
				return fmt.Errorf("refuse peer: %w", err)
			}
			return nil
		},
	}
}

// ClientTLS reaches node want and nobody else.
func ClientTLS(c Credentials, m Membership, want string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.certificate()},
		RootCAs:      c.pool(),
		ServerName:   want,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if _, err := m.verify(cs, want); err != nil {
				return fmt.Errorf("refuse %s: %w", want, err)
			}
			return nil
		},
	}
}
