package api

import (
	"crypto/x509"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/rpcerr"
)

// maxRecvMsg bounds one client message.
const maxRecvMsg = 1 << 20

// handshakeTimeout bounds a client's TLS handshake, so a connection that
// never completes one holds its slot (connlimit) briefly.
const handshakeTimeout = 10 * time.Second

// NewServer returns the client API on a gRPC server that presents key's
// certificate (a software TLS key endorsed by the node's HSM identity: no
// handshake costs an HSM operation) and admits only clients with a
// certificate from ca, not revoked, each to the methods of its role.
func NewServer(key KeySource, ca *x509.Certificate, d Deps) (*grpc.Server, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if key == nil || ca == nil {
		return nil, errors.New("client API: TLS key and CA are required")
	}
	s := newGRPCServer(key, ca, d.Log, d.Revoked)
	operatorpb.RegisterOperatorServer(s, &operatorAPI{d: d})
	transferpb.RegisterTransfersServer(s, &transferAPI{d: d})
	auditpb.RegisterAuditServer(s, &auditAPI{d: d})
	return s, nil
}

// newGRPCServer is the server without the services: TLS with the node's
// endorsed key, and on every call the error reference and authorization.
func newGRPCServer(key KeySource, ca *x509.Certificate, log *slog.Logger, revoked Revocations) *grpc.Server {
	a := authorizer{revoked: revoked}
	return grpc.NewServer(
		grpc.Creds(credentials.NewTLS(serverTLS(key, ca))),
		grpc.ConnectionTimeout(handshakeTimeout),
		// a failed call gets a reference, first, so authorization's
		// refusals get one too; internal errors reach the client as the
		// reference alone (the detail is in this node's log)
		grpc.ChainUnaryInterceptor(rpcerr.Unary(log), a.unary), grpc.ChainStreamInterceptor(rpcerr.Stream(log), a.stream),
		grpc.MaxRecvMsgSize(maxRecvMsg),
	)
}

func (d Deps) check() error {
	switch {
	case d.Node == "" || len(d.Members) == 0:
		return errors.New("client API: node and members are required")
	case d.Log == nil || d.Now == nil || d.Classify == nil:
		return errors.New("client API: logger, clock and error classifier are required")
	case d.Ledger == nil || d.Transfers == nil || d.Sessions == nil || d.Policy == nil || d.Replica == nil:
		return errors.New("client API: ledger, transfers, sessions, policy and replica are required")
	case d.Audit == nil || d.Verifiers == nil || d.Snapshot == nil:
		return errors.New("client API: audit log, verifiers and store snapshots are required")
	case d.Revoked == nil:
		return errors.New("client API: revocation list is required")
	}
	return nil
}
