package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	grpcpeer "google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/pki"
)

// methodRoles says which certificate role may call each client API method.
// A method missing here is refused for everyone (fail closed).
var methodRoles = map[string][]string{
	"/coffer.operator.v1.Operator/Keygen":            {pki.RoleOperator},
	"/coffer.operator.v1.Operator/Reshare":           {pki.RoleOperator},
	"/coffer.operator.v1.Operator/ListKeys":          {pki.RoleOperator, pki.RoleAuditor},
	"/coffer.operator.v1.Operator/SelfTestSign":      {pki.RoleOperator},
	"/coffer.operator.v1.Operator/Status":            {pki.RoleOperator, pki.RoleAuditor},
	"/coffer.operator.v1.Operator/SubmitPolicy":      {pki.RoleOperator},
	"/coffer.operator.v1.Operator/GetPolicy":         {pki.RoleOperator, pki.RoleAuditor, pki.RoleOfficer},
	"/coffer.operator.v1.Operator/ReplicationStatus": {pki.RoleOperator, pki.RoleAuditor},
	"/coffer.operator.v1.Operator/AddVoter":          {pki.RoleOperator},
	"/coffer.operator.v1.Operator/RemoveVoter":       {pki.RoleOperator},
	"/coffer.operator.v1.Operator/Snapshot":          {pki.RoleOperator},
	"/coffer.transfer.v1.Transfers/Submit":           {pki.RoleWithdrawal},
	"/coffer.transfer.v1.Transfers/Get":              {pki.RoleWithdrawal, pki.RoleOfficer, pki.RoleAuditor},
	"/coffer.transfer.v1.Transfers/List":             {pki.RoleWithdrawal, pki.RoleOfficer, pki.RoleAuditor},
	"/coffer.transfer.v1.Transfers/Decide":           {pki.RoleOfficer},
	"/coffer.audit.v1.Audit/Export":                  {pki.RoleAuditor, pki.RoleOperator},
	"/coffer.audit.v1.Audit/Latest":                  {pki.RoleAuditor, pki.RoleOperator},
	"/coffer.audit.v1.Audit/Entries":                 {pki.RoleAuditor, pki.RoleOperator},
	"/coffer.audit.v1.Audit/InclusionProof":          {pki.RoleAuditor, pki.RoleOperator},
	"/coffer.audit.v1.Audit/ConsistencyProof":        {pki.RoleAuditor, pki.RoleOperator},
}

// serverTLS serves clients whose certificate the cluster CA issued,
// presenting the node's endorsed TLS key (never the HSM key).
func serverTLS(key KeySource, ca *x509.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{MinVersion: tls.VersionTLS13, GetCertificate: key.GetCertificate,
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
}

// authorizer checks every call: a verified client certificate, not
// revoked, whose role may call the method.
type authorizer struct {
	revoked Revocations
}

// verifiedLeaf is the caller's certificate, verified in the handshake.
func verifiedLeaf(ctx context.Context) (*x509.Certificate, error) {
	p, ok := grpcpeer.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no client")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 {
		return nil, status.Error(codes.Unauthenticated, "no verified client certificate")
	}
	return ti.State.VerifiedChains[0][0], nil
}

// clientIdentity is the caller's name and role (for handlers, after the
// interceptor authorized the call).
func clientIdentity(ctx context.Context) (pki.Identity, error) {
	leaf, err := verifiedLeaf(ctx)
	if err != nil {
		return pki.Identity{}, err
	}
	id, err := pki.IdentityOf(leaf)
	if err != nil {
		return pki.Identity{}, status.Error(codes.PermissionDenied, "client certificate carries no known role")
	}
	return id, nil
}

func (a authorizer) authorize(ctx context.Context, method string) error {
	leaf, err := verifiedLeaf(ctx)
	if err != nil {
		return err
	}
	// checked on every call, so a revocation (a SIGHUP reload) reaches
	// connections opened before it
	if err := a.revoked.Check(leaf); err != nil {
		return status.Errorf(codes.Unauthenticated, "client certificate %q (serial %s) is revoked on this node", leaf.Subject.CommonName, pki.SerialHex(leaf))
	}
	id, err := clientIdentity(ctx)
	if err != nil {
		return err
	}
	want, ok := methodRoles[method]
	if !ok || !slices.Contains(want, id.Role) {
		return status.Errorf(codes.PermissionDenied, "%s (role %s) may not call %s", id.Name, id.Role, method)
	}
	return nil
}

func (a authorizer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := a.authorize(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (a authorizer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := a.authorize(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}
