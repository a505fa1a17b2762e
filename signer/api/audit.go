package api

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/audit"
)

const (
	// MaxExportChunk bounds one ExportChunk message.
	MaxExportChunk = 1 << 20
	// MaxEntriesPerCall and maxEntriesBytes bound one Entries answer; a
	// longer range is cut short and the client pages on.
	MaxEntriesPerCall = 1024
	maxEntriesBytes   = 1 << 20
)

// auditAPI serves this node's audit log to auditors and operators
// (DESIGN.md §7): read-only, and nothing in it needs to be trusted, since
// an auditor verifies it offline against the nodes' keys.
type auditAPI struct {
	auditpb.UnimplementedAuditServer
	d Deps
}

// NewAudit is the Audit service alone (tests, tools).
func NewAudit(d Deps) auditpb.AuditServer { return &auditAPI{d: d} }

var _ auditpb.AuditServer = (*auditAPI)(nil)

// Export implements auditpb.AuditServer: the bundle as audit.Log.Export
// writes it, in chunks of at most MaxExportChunk bytes.
func (a *auditAPI) Export(_ *auditpb.ExportRequest, stream auditpb.Audit_ExportServer) error {
	w := &chunkWriter{send: func(b []byte) error { return stream.Send(&auditpb.ExportChunk{Data: b}) }}
	if err := a.d.Audit.Export(stream.Context(), w); err != nil {
		if w.sendErr != nil {
			return w.sendErr // the client went away; Send's status says how
		}
		return a.fail("export", err)
	}
	return nil
}

// chunkWriter sends what it is given as messages of at most
// MaxExportChunk bytes.
type chunkWriter struct {
	send    func([]byte) error
	sendErr error
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), MaxExportChunk)
		// the message is marshalled before Send returns, so p may be reused
		if err := w.send(p[:n]); err != nil {
			w.sendErr = err
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// Latest implements auditpb.AuditServer.
func (a *auditAPI) Latest(ctx context.Context, _ *auditpb.LatestRequest) (*auditpb.SignedCheckpoint, error) {
	sc, err := a.d.Audit.Latest(ctx)
	if err != nil {
		return nil, a.fail("latest checkpoint", err)
	}
	vs, err := a.d.Verifiers()
	if err != nil {
		return nil, a.fail("latest checkpoint", err)
	}
	_, nt, err := audit.OpenCheckpoint(sc.Note, vs)
	if err != nil {
		return nil, a.fail("latest checkpoint", err)
	}
	return &auditpb.SignedCheckpoint{Origin: sc.Origin, Size: sc.Size, RootHash: sc.Hash, Note: sc.Note,
		Cosigners: audit.Cosigners(nt, sc.Origin)}, nil
}

// Entries implements auditpb.AuditServer.
func (a *auditAPI) Entries(ctx context.Context, req *auditpb.EntriesRequest) (*auditpb.EntriesResponse, error) {
	size := a.d.Audit.Size()
	if req.Begin > req.End || req.End > size {
		return nil, status.Errorf(codes.OutOfRange, "entries [%d, %d): the log holds %d", req.Begin, req.End, size)
	}
	end := min(req.End, req.Begin+MaxEntriesPerCall)
	es, err := a.d.Audit.Entries(ctx, req.Begin, end)
	if err != nil {
		return nil, a.fail("entries", err)
	}
	out := &auditpb.EntriesResponse{}
	total := 0
	for _, e := range es {
		if total += len(e.Leaf); total > maxEntriesBytes && len(out.Entries) > 0 {
			break
		}
		out.Entries = append(out.Entries, &auditpb.Entry{Index: e.Index, Leaf: e.Leaf})
	}
	return out, nil
}

// InclusionProof implements auditpb.AuditServer.
func (a *auditAPI) InclusionProof(ctx context.Context, req *auditpb.InclusionProofRequest) (*auditpb.Proof, error) {
	p, err := a.d.Audit.InclusionProof(ctx, req.Index, req.TreeSize)
	if err != nil {
		return nil, a.fail("inclusion proof", err)
	}
	return &auditpb.Proof{Hashes: p}, nil
}

// ConsistencyProof implements auditpb.AuditServer.
func (a *auditAPI) ConsistencyProof(ctx context.Context, req *auditpb.ConsistencyProofRequest) (*auditpb.Proof, error) {
	p, err := a.d.Audit.ConsistencyProof(ctx, req.Size1, req.Size2)
	if err != nil {
		return nil, a.fail("consistency proof", err)
	}
	return &auditpb.Proof{Hashes: p}, nil
}

// fail maps an audit log error to a clean status: a range or a missing
// checkpoint is the client's, anything else is logged here and reported
// without internals.
func (a *auditAPI) fail(what string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	case errors.Is(err, audit.ErrRange):
		return status.Errorf(codes.OutOfRange, "audit %s: index or size outside the log (size %d)", what, a.d.Audit.Size())
	case errors.Is(err, audit.ErrNotFound):
		return status.Errorf(codes.NotFound, "audit %s: no such checkpoint", what)
	}
	a.d.Log.Error("audit API", "call", what, "err", err)
	return status.Errorf(codes.Internal, "audit %s failed on this node; see its log", what)
}
