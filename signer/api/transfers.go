package api

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/ledger"
	"github.com/cofferhq/coffer/pki"
)

type transferAPI struct {
	transferpb.UnimplementedTransfersServer
	d Deps
}

// Submit implements transferpb.TransfersServer (withdrawal role).
func (a *transferAPI) Submit(ctx context.Context, req *transferpb.SubmitRequest) (*transferpb.Transfer, error) {
	id, err := clientIdentity(ctx)
	if err != nil {
		return nil, err
	}
	at := a.d.Now().UTC()
	t, err := a.d.Transfers.Submit(ctx, req.GetIntent(), id.Name, id.Role, at)
	if err != nil {
		return nil, a.clientStatus(err)
	}
	if t.Initiator != id.Name { // the workflow refuses this already; never show another client's request
		return nil, status.Error(codes.AlreadyExists, takenMessage)
	}
	a.d.Transfers.Kick(t)
	return a.d.Transfers.View(t), nil
}

// Get implements transferpb.TransfersServer.
func (a *transferAPI) Get(ctx context.Context, req *transferpb.GetRequest) (*transferpb.Transfer, error) {
	id, err := clientIdentity(ctx)
	if err != nil {
		return nil, err
	}
	if req.WaitMs > maxGetWaitMs {
		return nil, status.Errorf(codes.InvalidArgument, "wait_ms %d is over %d", req.WaitMs, maxGetWaitMs)
	}
	deadline := time.NewTimer(time.Duration(req.WaitMs) * time.Millisecond)
	defer deadline.Stop()
	for first := true; ; first = false {
		changed := a.d.Ledger.Changed()
		t, err := a.d.Ledger.Transfer(req.RequestId)
		if first && errors.Is(err, ledger.ErrTransferNotFound) {
			t, err = a.d.Transfers.Await(ctx, req.RequestId)
		}
		if err != nil || id.Role == pki.RoleWithdrawal && t.Initiator != id.Name {
			return nil, status.Errorf(codes.NotFound, "no request %q", req.RequestId)
		}
		if req.WaitMs == 0 || t.State.Final() || t.State == ledger.StateFailed {
			return a.d.Transfers.View(t), nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return a.d.Transfers.View(t), nil
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
}

// maxGetWaitMs bounds how long one Get may wait for a request to finish.
const maxGetWaitMs = 30000

// List implements transferpb.TransfersServer.
func (a *transferAPI) List(ctx context.Context, req *transferpb.ListRequest) (*transferpb.ListResponse, error) {
	id, err := clientIdentity(ctx)
	if err != nil {
		return nil, err
	}
	if req.Limit < 0 || req.Limit > ledger.MaxPage || req.SinceUnix < 0 || req.UntilUnix < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "list: limit must be 0 to %d and times not negative", ledger.MaxPage)
	}
	f := ledger.PageFilter{TransferFilter: ledger.TransferFilter{State: ledger.TransferState(req.State), Limit: int(req.Limit)}}
	if id.Role == pki.RoleWithdrawal {
		f.Initiator = id.Name
	}
	if req.SinceUnix > 0 {
		f.Since = time.Unix(req.SinceUnix, 0)
	}
	if req.UntilUnix > 0 {
		f.Until = time.Unix(req.UntilUnix, 0)
	}
	if req.Cursor != "" {
		c, err := hex.DecodeString(req.Cursor)
		if err != nil || len(c) > 1024 {
			return nil, status.Error(codes.InvalidArgument, "list: malformed cursor")
		}
		f.After = c
	}
	page, err := a.d.Ledger.TransferPage(f)
	if err != nil {
		if a.d.Classify(err) == KindInvalid {
			return nil, status.Errorf(codes.InvalidArgument, "list: %v", err)
		}
		return nil, status.Errorf(codes.Unavailable, "list: %v", err)
	}
	out := &transferpb.ListResponse{NextCursor: hex.EncodeToString(page.Next)}
	for _, t := range page.Transfers {
		out.Transfers = append(out.Transfers, a.d.Transfers.ListView(t))
	}
	return out, nil
}

// Decide implements transferpb.TransfersServer (officer role). The
// officer named must be the certificate's holder, and the signature must
// verify under that officer's key in the active policy.
func (a *transferAPI) Decide(ctx context.Context, req *transferpb.DecideRequest) (*transferpb.Transfer, error) {
	id, err := clientIdentity(ctx)
	if err != nil {
		return nil, err
	}
	if req.Officer != id.Name {
		return nil, status.Errorf(codes.PermissionDenied, "%s may not decide as %q", id.Name, req.Officer)
	}
	at := a.d.Now().UTC()
	t, err := a.d.Transfers.Decide(ctx, req, at)
	if err != nil {
		return nil, a.clientStatus(err)
	}
	a.d.Transfers.Kick(t)
	return a.d.Transfers.View(t), nil
}

// takenMessage answers a client that names another client's request ID,
// whatever the intent.
const takenMessage = "request ID already in use"

// clientStatus maps workflow errors to clean client statuses.
func (a *transferAPI) clientStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch a.d.Classify(err) {
	case KindInvalid:
		return status.Error(codes.InvalidArgument, err.Error())
	case KindConflict:
		return status.Error(codes.AlreadyExists, "request ID reused with a different intent")
	case KindTaken:
		return status.Error(codes.AlreadyExists, takenMessage)
	case KindNotFound:
		return status.Error(codes.NotFound, err.Error())
	case KindPrecondition:
		return status.Error(codes.FailedPrecondition, err.Error())
	case KindDamaged:
		return status.Error(codes.DataLoss, storeDamagedMessage)
	case KindUnavailable:
		return status.Error(codes.Unavailable, unavailableMessage(err))
	default:
		return status.Error(codes.Internal, err.Error())
	}
}

// storeDamagedMessage answers a client when this node's store is damaged;
// the node logged which record at ERROR.
const storeDamagedMessage = "node store damaged: this node cannot read a record it needs (its log names it); ask another node or its operator"

// unavailableMessage tells a client why this node cannot take its request
// now, in fixed words (the node's log has the details: files, entries).
func unavailableMessage(err error) string {
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device") {
		return "node unavailable: no space left on device on this node (its log names the file); try again later or another node"
	}
	return "node unavailable: its replicated log or store does not take writes now (its log says why); try again later or another node"
}
