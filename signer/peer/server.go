package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	grpcpeer "google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/internal/rpcerr"
)

// MaxMessage bounds one gRPC message on the peer transport. tss payloads
// are bounded lower (signer/tss.MaxPayload) so an oversized payload is
// refused by the session, which names its sender.
const MaxMessage = 4 << 20

// Handler serves the peer protocol. from is the authenticated node ID.
type Handler interface {
	Prepare(ctx context.Context, from string, req *peerpb.PrepareRequest) error
	RunSession(ctx context.Context, from string, req *peerpb.RunRequest) (*peerpb.RunResponse, error)
	Deliver(ctx context.Context, from string, env *peerpb.Envelope) error
	Abort(ctx context.Context, from string, req *peerpb.AbortRequest) error
	Forward(ctx context.Context, from string, entry []byte) error
	RaftInfo(ctx context.Context, from string) (uint64, error)
	Cosign(ctx context.Context, from string, req *peerpb.CosignRequest) (*peerpb.CosignResponse, error)
}

// Server is the peer gRPC server.
type Server struct {
	peerpb.UnimplementedPeerServer
	h       Handler
	creds   Credentials
	members Membership
	grpc    *grpc.Server
	log     *slog.Logger
}

// handshakeTimeout bounds a connection's TLS handshake.
const handshakeTimeout = 10 * time.Second

// MaxStreams bounds the concurrent calls one connection (one member) may
// hold open on this node.
const MaxStreams = 256

// NewServer builds the server; Serve starts it.
func NewServer(c Credentials, m Membership, h Handler, log *slog.Logger) (*Server, error) {
	switch {
	case h == nil:
		return nil, errors.New("new peer server: missing handler")
	case log == nil:
		return nil, errors.New("new peer server: missing logger")
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("new peer server: %w", err)
	}
	s := &Server{h: h, creds: c, members: m, log: log.With("component", "peer")}
	s.grpc = grpc.NewServer(
		grpc.Creds(credentials.NewTLS(ServerTLS(c, m))),
		grpc.MaxRecvMsgSize(MaxMessage), grpc.MaxSendMsgSize(MaxMessage),
		// a connection that never completes its handshake holds its
		// source's slot (connlimit) briefly
		grpc.ConnectionTimeout(handshakeTimeout),
		grpc.UnaryInterceptor(rpcerr.UnaryInternal(s.log)),
		// a member cannot hold more than a bounded number of calls open,
		// nor keep a connection busy with pings
		grpc.MaxConcurrentStreams(MaxStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 5 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second}),
	)
	peerpb.RegisterPeerServer(s.grpc, s)
	return s, nil
}

// Serve accepts connections on lis until Stop.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// Stop stops the server, letting calls in flight finish.
func (s *Server) Stop() { s.grpc.GracefulStop() }

// Kill stops the server at once.
func (s *Server) Kill() { s.grpc.Stop() }

func (s *Server) caller(ctx context.Context) (string, error) {
	p, ok := grpcpeer.FromContext(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "no peer")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "no TLS")
	}
	id, err := s.members.caller(s.creds, ti.State)
	if err != nil {
		return "", status.Error(codes.PermissionDenied, err.Error())
	}
	return id, nil
}

// Prepare implements peerpb.PeerServer.
func (s *Server) Prepare(ctx context.Context, req *peerpb.PrepareRequest) (*peerpb.PrepareResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.h.Prepare(ctx, from, req); err != nil {
		return nil, toStatus(err)
	}
	return &peerpb.PrepareResponse{}, nil
}

// Run implements peerpb.PeerServer.
func (s *Server) Run(ctx context.Context, req *peerpb.RunRequest) (*peerpb.RunResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := s.h.RunSession(ctx, from, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// Deliver implements peerpb.PeerServer.
func (s *Server) Deliver(ctx context.Context, env *peerpb.Envelope) (*peerpb.DeliverResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.h.Deliver(ctx, from, env); err != nil {
		return nil, toStatus(err)
	}
	return &peerpb.DeliverResponse{}, nil
}

// Abort implements peerpb.PeerServer.
func (s *Server) Abort(ctx context.Context, req *peerpb.AbortRequest) (*peerpb.AbortResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.h.Abort(ctx, from, req); err != nil {
		return nil, toStatus(err)
	}
	return &peerpb.AbortResponse{}, nil
}

// toStatus keeps statuses the handler chose and hides anything else
// behind a generic message.
func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, fmt.Sprintf("peer: %v", err))
}

// Forward implements peerpb.PeerServer.
func (s *Server) Forward(ctx context.Context, req *peerpb.ForwardRequest) (*peerpb.ForwardResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.h.Forward(ctx, from, req.Entry); err != nil {
		return nil, toStatus(err)
	}
	return &peerpb.ForwardResponse{}, nil
}

// RaftInfo implements peerpb.PeerServer.
func (s *Server) RaftInfo(ctx context.Context, _ *peerpb.RaftInfoRequest) (*peerpb.RaftInfoResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	last, err := s.h.RaftInfo(ctx, from)
	if err != nil {
		return nil, toStatus(err)
	}
	return &peerpb.RaftInfoResponse{LastIndex: last}, nil
}

// Cosign implements peerpb.PeerServer.
func (s *Server) Cosign(ctx context.Context, req *peerpb.CosignRequest) (*peerpb.CosignResponse, error) {
	from, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.h.Cosign(ctx, from, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return r, nil
}
