package devcluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/pki"
)

// Client is an operator connection to one node's API.
type Client struct {
	Operator  operatorpb.OperatorClient
	Transfers transferpb.TransfersClient
	conn      *grpc.ClientConn
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// NodeTLS is a client's TLS configuration for node's client API: it
// presents cert and accepts only node's TLS key endorsed by its identity
// certificate from ca (pki.VerifyNode). Go's own chain building cannot
// check an endorsement (a node certificate is not a CA), so it is off and
// VerifyConnection, which runs regardless, does the whole check.
func NodeTLS(ca *x509.Certificate, node string, cert tls.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ServerName: node,
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return pki.VerifyNode(cs.PeerCertificates, pool, node, pki.PurposeAPI, time.Now())
		},
	}
}

// Dial connects to a node's API with the layout's operator certificate.
func (l *Layout) Dial(id string) (*Client, error) {
	return l.DialAs(id, l.Operator)
}

// DialAs connects to a node's API with the given client certificate.
func (l *Layout) DialAs(id string, cc ClientCert) (*Client, error) {
	n, err := l.Node(id)
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(l.Path(l.CA))
	if err != nil {
		return nil, err
	}
	ca, err := pki.ParseCertPEM(caPEM)
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(l.Path(cc.Cert))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(l.Path(cc.Key))
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load client certificate %s: %w", cc.Cert, err)
	}
	conn, err := grpc.NewClient(n.API, grpc.WithTransportCredentials(credentials.NewTLS(NodeTLS(ca, n.ID, pair))))
	if err != nil {
		return nil, fmt.Errorf("dial %s at %s: %w", id, n.API, err)
	}
	return &Client{Operator: operatorpb.NewOperatorClient(conn), Transfers: transferpb.NewTransfersClient(conn), conn: conn}, nil
}
