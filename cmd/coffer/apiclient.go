package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/internal/devcluster"
)

// apiTimeout bounds each client API call of the transfer commands.
const apiTimeout = 30 * time.Second

// clientFlags choose the node a command talks to and the client
// certificate it presents (mutual TLS; the node reads the caller's role
// from it). In a dev cluster --as NAME picks NAME.pem and NAME.key in the
// cluster folder; --cert and --cert-key name any certificate and key.
type clientFlags struct {
	node, as, cert, certKey string
}

func (c *clientFlags) register(f *pflag.FlagSet, asDefault, asHelp string) {
	f.StringVar(&c.node, "node", "", "node to talk to (default: the cluster's first node)")
	f.StringVar(&c.as, "as", asDefault, asHelp)
	f.StringVar(&c.cert, "cert", "", "client certificate (PEM) for mutual TLS, instead of --as")
	f.StringVar(&c.certKey, "cert-key", "", "private key (PEM) of --cert")
}

// identity resolves the client certificate: --cert/--cert-key, else the
// dev cluster's files for --as (or for fallback when --as is empty).
func (c *clientFlags) identity(l *devcluster.Layout, fallback string) (devcluster.ClientCert, error) {
	switch {
	case c.cert != "" || c.certKey != "":
		if c.cert == "" || c.certKey == "" {
			return devcluster.ClientCert{}, errors.New("--cert and --cert-key go together")
		}
		cert, err := filepath.Abs(c.cert)
		if err != nil {
			return devcluster.ClientCert{}, fmt.Errorf("resolve --cert: %w", err)
		}
		key, err := filepath.Abs(c.certKey)
		if err != nil {
			return devcluster.ClientCert{}, fmt.Errorf("resolve --cert-key: %w", err)
		}
		return devcluster.ClientCert{Name: filepath.Base(cert), Cert: cert, Key: key}, nil
	}
	name := c.as
	if name == "" {
		name = fallback
	}
	if name == "" {
		return devcluster.ClientCert{}, errors.New("name the client: --as NAME (NAME.pem and NAME.key in the cluster folder) or --cert FILE --cert-key FILE")
	}
	if name == l.Operator.Name {
		return l.Operator, nil
	}
	if filepath.Base(name) != name {
		return devcluster.ClientCert{}, fmt.Errorf("--as %q: a client name, not a path (use --cert and --cert-key for files)", name)
	}
	cc := devcluster.ClientCert{Name: name, Cert: name + ".pem", Key: name + ".key"}
	for _, f := range []string{cc.Cert, cc.Key} {
		if _, err := os.Stat(l.Path(f)); err != nil {
			return devcluster.ClientCert{}, fmt.Errorf("client %q: no %s in the cluster folder %s (use --cert and --cert-key for other clients)", name, f, l.Dir)
		}
	}
	return cc, nil
}

// dial connects to the chosen node as the chosen client.
func (c *clientFlags) dial(l *devcluster.Layout, fallback string) (*devcluster.Client, devcluster.ClientCert, error) {
	cc, err := c.identity(l, fallback)
	if err != nil {
		return nil, cc, err
	}
	node := c.nodeID(l)
	if node == "" {
		return nil, cc, fmt.Errorf("cluster %s has no nodes", l.Dir)
	}
	cl, err := l.DialAs(node, cc)
	if err != nil {
		return nil, cc, fmt.Errorf("connect to %s as %s: %w", node, cc.Name, err)
	}
	return cl, cc, nil
}

// nodeID is --node, or the cluster's first node.
func (c *clientFlags) nodeID(l *devcluster.Layout) string {
	if c.node == "" && len(l.Nodes) > 0 {
		return l.Nodes[0].ID
	}
	return c.node
}

// callCtx bounds one API call.
func callCtx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, apiTimeout)
}

// apiError is a failed API call: what the CLI was doing and the node's
// status, printed as "what: Code: message" rather than gRPC's wording.
type apiError struct {
	what string
	err  error
}

func (e *apiError) Error() string {
	if st, ok := status.FromError(e.err); ok {
		return fmt.Sprintf("%s: %s: %s", e.what, st.Code(), st.Message())
	}
	return fmt.Sprintf("%s: %v", e.what, e.err)
}

func (e *apiError) Unwrap() error { return e.err }

func callErr(what string, err error) error { return &apiError{what: what, err: err} }
