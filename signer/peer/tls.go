package peer

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/pki"
)

// KeySource presents this node's current TLS certificate: a software key
// endorsed by its HSM identity key, for one purpose (signer/tlskey.Key).
// Serving a handshake from it never calls the HSM.
type KeySource interface {
	Purpose() string
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error)
}

// Revocations refuses certificates the operators revoked (node config
// tls.revoked); it is consulted on every handshake and call.
type Revocations interface {
	Check(c *x509.Certificate) error
}

// Credentials are a node's TLS identity on one listener: its endorsed key
// (whose purpose peers must present too), the cluster CA, and the
// revocation list.
type Credentials struct {
	Key     KeySource
	CA      *x509.Certificate
	Revoked Revocations // optional
}

func (c Credentials) check() error {
	if c.Key == nil || c.CA == nil {
		return fmt.Errorf("missing TLS credentials")
	}
	return nil
}

func (c Credentials) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.CA)
	return p
}

// ServerTLS accepts only cluster members. Go's chain verification cannot
// check an endorsed key (the identity certificate is not a CA), so the
// handshake takes any client certificate and VerifyConnection checks it.
func ServerTLS(c Credentials, m Membership) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: c.Key.GetCertificate,
		ClientAuth:     tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if _, err := m.verify(c, cs, x509.ExtKeyUsageClientAuth, ""); err != nil {
				return fmt.Errorf("refuse peer: %w", err)
			}
			return nil
		},
	}
}

// ClientTLS reaches node want and nobody else. InsecureSkipVerify only
// turns off Go's chain building, which cannot check an endorsed key;
// VerifyConnection, which runs regardless, checks the chain, the
// endorsement and the membership in full.
func ClientTLS(c Credentials, m Membership, want string) *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: c.Key.GetClientCertificate,
		InsecureSkipVerify:   true,
		ServerName:           want,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if _, err := m.verify(c, cs, x509.ExtKeyUsageServerAuth, want); err != nil {
				return fmt.Errorf("refuse %s: %w", want, err)
			}
			return nil
		},
	}
}

// verify checks a handshake's chain in full: a TLS key endorsed for this
// listener's purpose by an identity certificate of the cluster CA, neither
// revoked, whose holder is a member with exactly its pinned identity key.
func (m Membership) verify(c Credentials, cs tls.ConnectionState, usage x509.ExtKeyUsage, want string) (string, error) {
	identity, err := pki.VerifyEndorsed(cs.PeerCertificates, c.pool(), c.Key.Purpose(), usage, time.Now())
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotMember, err)
	}
	return m.checkChain(c, cs.PeerCertificates[0], identity, want)
}

// caller names the member on a connection whose handshake verify passed.
// It checks again what may change or is cheap (the endorsement signature,
// the membership pin, revocation), not the times: a connection outlives
// the certificate it was opened with.
func (m Membership) caller(c Credentials, cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) != 2 {
		return "", fmt.Errorf("%w: no endorsed certificate", ErrNotMember)
	}
	leaf, identity := cs.PeerCertificates[0], cs.PeerCertificates[1]
	if err := pki.CheckEndorsement(leaf, identity); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotMember, err)
	}
	return m.checkChain(c, leaf, identity, "")
}

func (m Membership) checkChain(c Credentials, leaf, identity *x509.Certificate, want string) (string, error) {
	if c.Revoked != nil {
		for _, cert := range []*x509.Certificate{identity, leaf} {
			if err := c.Revoked.Check(cert); err != nil {
				return "", fmt.Errorf("%w: %v", ErrNotMember, err)
			}
		}
	}
	return m.check(identity, want)
}
