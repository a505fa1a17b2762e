package rpcerr

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestWrap(t *testing.T) {
	info := &grpc.UnaryServerInfo{FullMethod: "/coffer.transfer.v1.Transfers/Submit"}
	refOf := regexp.MustCompile(`ref ([0-9a-f]{12})`)
	for _, tc := range []struct {
		name     string
		err      error
		code     codes.Code
		seen     string // the caller sees this
		withheld string // and not this
	}{
		{"ok/a refusal keeps its words", status.Error(codes.InvalidArgument, "amount: not a decimal"), codes.InvalidArgument, "amount: not a decimal", ""},
		{"fail/an internal error hides its text", status.Error(codes.Internal, "open share: pkcs11 token coffer-node1: CKR_PIN_INCORRECT"), codes.Internal, "internal error", "coffer-node1"},
		{"fail/a plain Go error is Unknown and hidden", errors.New("bolt: /var/lib/coffer/ledger.db: read-only"), codes.Unknown, "internal error", "/var/lib"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			_, err := Unary(log)(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, tc.err })
			st, _ := status.FromError(err)
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.seen) {
				t.Fatalf("caller sees %v %q", st.Code(), st.Message())
			}
			if tc.withheld != "" && strings.Contains(st.Message(), tc.withheld) {
				t.Fatalf("caller sees the internals: %q", st.Message())
			}
			m := refOf.FindStringSubmatch(st.Message())
			if m == nil {
				t.Fatalf("no reference in %q", st.Message())
			}
			// the log holds the reference and the whole error
			if !strings.Contains(logged.String(), `"ref":"`+m[1]+`"`) || !strings.Contains(logged.String(), status.Convert(tc.err).Message()) {
				t.Fatalf("log lacks ref %s or the detail: %s", m[1], logged.String())
			}
		})
	}
	t.Run("ok/peers: a refusal passes as it is, an internal error is hidden", func(t *testing.T) {
		var logged bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logged, nil))
		refusal := status.Error(codes.InvalidArgument, "deliver: oversized message")
		if _, err := UnaryInternal(log)(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, refusal }); err != refusal || logged.Len() != 0 {
			t.Fatalf("refusal changed or logged: %v %s", err, logged.String())
		}
		_, err := UnaryInternal(log)(context.Background(), nil, info, func(context.Context, any) (any, error) {
			return nil, status.Error(codes.Internal, "seal: token coffer-node2")
		})
		if m := status.Convert(err).Message(); strings.Contains(m, "coffer-node2") || !refOf.MatchString(m) || !strings.Contains(logged.String(), "coffer-node2") {
			t.Fatalf("peer sees %q; log %s", m, logged.String())
		}
	})
	t.Run("ok/a success passes untouched", func(t *testing.T) {
		resp, err := Unary(slog.New(slog.DiscardHandler))(context.Background(), nil, info, func(context.Context, any) (any, error) { return "fine", nil })
		if err != nil || resp != "fine" {
			t.Fatalf("%v %v", resp, err)
		}
	})
}
