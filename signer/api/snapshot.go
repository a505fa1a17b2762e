package api

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/operatorpb"
)

// Snapshot implements operatorpb.OperatorServer: a consistent copy of the
// node's store, streamed in chunks of at most MaxExportChunk bytes.
func (a *operatorAPI) Snapshot(_ *operatorpb.SnapshotRequest, stream operatorpb.Operator_SnapshotServer) error {
	w := &chunkWriter{send: func(p []byte) error { return stream.Send(&operatorpb.SnapshotChunk{Data: p}) }}
	n, err := a.d.Snapshot(w)
	if err != nil {
		if w.sendErr != nil {
			return w.sendErr // the client went away; Send's status says how
		}
		a.d.Log.Error("store snapshot failed", "bytes", n, "err", err)
		return status.Error(codes.Unavailable, "snapshot: this node could not copy its store (its log says why)")
	}
	a.d.Log.Info("store snapshot sent", "bytes", n)
	return nil
}
