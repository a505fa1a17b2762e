package api

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/rpcerr"
)

// maxRecvMsg bounds one client message.
const maxRecvMsg = 1 << 20

// NewServer returns the client API on a gRPC server that presents cert
// (its key held by signer, the node's HSM identity) and admits only
// clients with a certificate from ca, each to the methods of its role.
func NewServer(cert *x509.Certificate, signer crypto.Signer, ca *x509.Certificate, d Deps) (*grpc.Server, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	c := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: signer, Leaf: cert}
	s := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(serverTLS(c, ca))),
		// a failed call gets a reference, first, so authorization's
		// refusals get one too; internal errors reach the client as the
		// reference alone (the detail is in this node's log)
		grpc.ChainUnaryInterceptor(rpcerr.Unary(d.Log), unaryAuth), grpc.ChainStreamInterceptor(rpcerr.Stream(d.Log), streamAuth),
		grpc.MaxRecvMsgSize(maxRecvMsg),
	)
	operatorpb.RegisterOperatorServer(s, &operatorAPI{d: d})
	transferpb.RegisterTransfersServer(s, &transferAPI{d: d})
	auditpb.RegisterAuditServer(s, &auditAPI{d: d})
	return s, nil
}

func (d Deps) check() error {
	switch {
	case d.Node == "" || len(d.Members) == 0:
		return errors.New("client API: node and members are required")
	case d.Log == nil || d.Now == nil || d.Classify == nil:
		return errors.New("client API: logger, clock and error classifier are required")
	case d.Ledger == nil || d.Transfers == nil || d.Sessions == nil || d.Policy == nil || d.Replica == nil:
		return errors.New("client API: ledger, transfers, sessions, policy and replica are required")
	case d.Audit == nil || d.Verifiers == nil:
		return errors.New("client API: audit log and verifiers are required")
	}
	return nil
}
