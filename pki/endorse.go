package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Purposes of an endorsed TLS key: the listener (and the dialer of the
// same protocol) it serves. A key endorsed for one is refused on another.
const (
	PurposePeer = "peer" // node-to-node gRPC
	PurposeRaft = "raft" // the replicated log
	PurposeAPI  = "api"  // the client API
)

// MaxEndorsement bounds the lifetime of an endorsed TLS certificate that a
// verifier accepts, so a TLS key that leaked from memory stops working
// within this time even if its node is never asked again.
const MaxEndorsement = 48 * time.Hour

// purposeScheme is the URI scheme of the SAN that names an endorsed
// certificate's purpose ("coffer-tls:peer").
const purposeScheme = "coffer-tls"

// ErrEndorsement means a node's TLS chain is not a live TLS key endorsed by
// a node identity certificate of the cluster CA, for the purpose asked.
var ErrEndorsement = errors.New("pki: TLS key not endorsed by a node identity")

// Endorse issues a short-lived TLS certificate for pub (a software key)
// signed by the node's identity key. identity is the node's certificate
// from the cluster CA, whose key signer holds (the HSM): the only HSM
// operation is this one signature. The new certificate copies the
// identity's subject and names, names purpose, and is valid from
// notBefore to notAfter (at most MaxEndorsement, and not past the
// identity). The node presents [endorsed, identity] in its handshakes.
func Endorse(identity *x509.Certificate, signer crypto.Signer, pub crypto.PublicKey, purpose string, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if !knownPurpose(purpose) {
		return nil, fmt.Errorf("endorse TLS key: unknown purpose %q", purpose)
	}
	if notAfter.After(identity.NotAfter) {
		notAfter = identity.NotAfter
	}
	if !notAfter.After(notBefore) || notAfter.Sub(notBefore) > MaxEndorsement {
		return nil, fmt.Errorf("endorse TLS key: validity %s..%s is empty or longer than %s", notBefore, notAfter, MaxEndorsement)
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if purpose == PurposeAPI {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               identity.Subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           usage,
		BasicConstraintsValid: true,
		DNSNames:              identity.DNSNames,
		IPAddresses:           identity.IPAddresses,
		URIs:                  []*url.URL{{Scheme: purposeScheme, Opaque: purpose}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, identity, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("endorse %s TLS key of %s: %w", purpose, identity.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// VerifyEndorsed checks the chain a node presented, [endorsed, identity]:
// identity is a certificate the cluster CA (roots) issued directly, for
// usage, valid at now; endorsed is signed by identity's key, names
// purpose, allows usage, is valid at now and lives at most
// MaxEndorsement. It returns identity, whose name, role and key the
// caller still checks (membership, pinning). A chain of any other shape
// is refused: in particular a node certificate alone (whose key would be
// the HSM identity key itself), and anything the identity "issued" but a
// TLS key.
func VerifyEndorsed(chain []*x509.Certificate, roots *x509.CertPool, purpose string, usage x509.ExtKeyUsage, now time.Time) (*x509.Certificate, error) {
	if len(chain) != 2 {
		return nil, fmt.Errorf("%w: %d certificates presented, want the TLS certificate and the node's identity certificate", ErrEndorsement, len(chain))
	}
	leaf, identity := chain[0], chain[1]
	if _, err := identity.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return nil, fmt.Errorf("%w: identity certificate of %q: %v", ErrEndorsement, identity.Subject.CommonName, err)
	}
	if err := CheckEndorsement(leaf, identity); err != nil {
		return nil, err
	}
	switch {
	case now.Before(leaf.NotBefore) || now.After(leaf.NotAfter):
		return nil, fmt.Errorf("%w: TLS certificate of %q is not valid now (%s..%s)", ErrEndorsement, identity.Subject.CommonName,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	case leaf.NotAfter.Sub(leaf.NotBefore) > MaxEndorsement:
		return nil, fmt.Errorf("%w: TLS certificate of %q lives longer than %s", ErrEndorsement, identity.Subject.CommonName, MaxEndorsement)
	case purposeOf(leaf) != purpose:
		return nil, fmt.Errorf("%w: TLS certificate of %q is for %q, not %q", ErrEndorsement, identity.Subject.CommonName, purposeOf(leaf), purpose)
	case !hasUsage(leaf, usage):
		return nil, fmt.Errorf("%w: TLS certificate of %q does not allow this use", ErrEndorsement, identity.Subject.CommonName)
	}
	return identity, nil
}

// CheckEndorsement checks only that leaf was signed by identity's key and
// names it as issuer, and is not itself a CA: the part of VerifyEndorsed
// that does not depend on the time (for per-call checks on a connection
// whose handshake VerifyEndorsed passed).
func CheckEndorsement(leaf, identity *x509.Certificate) error {
	name := identity.Subject.CommonName
	if !bytes.Equal(leaf.RawIssuer, identity.RawSubject) {
		return fmt.Errorf("%w: TLS certificate of %q names another issuer", ErrEndorsement, name)
	}
	if err := identity.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		return fmt.Errorf("%w: TLS certificate of %q is not signed by its identity key: %v", ErrEndorsement, name, err)
	}
	if leaf.IsCA {
		return fmt.Errorf("%w: TLS certificate of %q claims to be a CA", ErrEndorsement, name)
	}
	return nil
}

// VerifyNode is what a client of a node checks (the client API's callers):
// VerifyEndorsed for a server, and that the identity certificate is the
// node certificate of name.
func VerifyNode(chain []*x509.Certificate, roots *x509.CertPool, name, purpose string, now time.Time) error {
	identity, err := VerifyEndorsed(chain, roots, purpose, x509.ExtKeyUsageServerAuth, now)
	if err != nil {
		return err
	}
	id, err := IdentityOf(identity)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrEndorsement, err)
	}
	if id.Role != RoleNode || id.Name != name {
		return fmt.Errorf("%w: reached %q (role %s), expected node %q", ErrEndorsement, id.Name, id.Role, name)
	}
	return nil
}

func purposeOf(c *x509.Certificate) string {
	if len(c.URIs) != 1 || c.URIs[0].Scheme != purposeScheme {
		return ""
	}
	return c.URIs[0].Opaque
}

func knownPurpose(p string) bool { return p == PurposePeer || p == PurposeRaft || p == PurposeAPI }

func hasUsage(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, have := range c.ExtKeyUsage {
		if have == u {
			return true
		}
	}
	return false
}
