package rpcerr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	grpcpeer "google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Unary returns the interceptor for unary calls; it goes first in the
// chain, so it sees the errors of the others (authorization included).
func Unary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if err != nil {
			return nil, Wrap(ctx, log, info.FullMethod, err)
		}
		return resp, nil
	}
}

// UnaryInternal is Unary for the peer protocol: only internal errors get
// a reference (and are hidden). A refusal's words are what the peer needs
// and the handler logs them itself; a reference and a log line for each
// would let a flooding peer flood the log too.
func UnaryInternal(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if err != nil && internal(status.Code(err)) {
			return nil, Wrap(ctx, log, info.FullMethod, err)
		}
		return resp, err
	}
}

func internal(c codes.Code) bool {
	return c == codes.Internal || c == codes.Unknown || c == codes.DataLoss
}

// Stream returns the interceptor for streaming calls.
func Stream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if err := h(srv, ss); err != nil {
			return Wrap(ss.Context(), log, info.FullMethod, err)
		}
		return nil
	}
}

// Wrap logs err under a new reference and returns what the caller sees.
func Wrap(ctx context.Context, log *slog.Logger, method string, err error) error {
	ref := newRef()
	st, _ := status.FromError(err)
	code := st.Code()
	level := slog.LevelInfo
	msg := st.Message() + " (ref " + ref + ")"
	switch {
	case internal(code):
		level = slog.LevelError
		msg = "internal error on this node; its operator can find it in the log by ref " + ref
	case code == codes.Canceled || code == codes.DeadlineExceeded || code == codes.NotFound || code == codes.AlreadyExists:
		level = slog.LevelDebug
	}
	log.Log(ctx, level, "call failed", "ref", ref, "method", method, "caller", caller(ctx), "code", code.String(), "err", st.Message())
	return status.Error(code, msg)
}

func newRef() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// caller names the peer: its certificate's common name, else its address.
func caller(ctx context.Context) string {
	p, ok := grpcpeer.FromContext(ctx)
	if !ok {
		return "unknown"
	}
	if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
		return ti.State.PeerCertificates[0].Subject.CommonName
	}
	if p.Addr != nil {
		return p.Addr.String()
	}
	return "unknown"
}
