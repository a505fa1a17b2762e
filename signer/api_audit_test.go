package signer

import (
	"bytes"
	"context"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/audit"
	"github.com/cofferhq/coffer/signer/api"
)

// exportStream collects what Export sends.
type exportStream struct {
	grpc.ServerStream
	ctx    context.Context
	chunks [][]byte
}

func (s *exportStream) Context() context.Context { return s.ctx }
func (s *exportStream) Send(c *auditpb.ExportChunk) error {
	s.chunks = append(s.chunks, bytes.Clone(c.Data))
	return nil
}

func TestAuditAPI(t *testing.T) {
	ctx := context.Background()
	c := newAuditNodes(t, "node1", "node2")
	n := c.nodes["node1"]
	c.appendN(n, 5000, "x") // a bundle of more than 1 MiB
	srv := api.NewAudit(api.Deps{Audit: n.audit, Verifiers: n.auditVerifiers, Log: n.log})

	t.Run("ok/export is the log's bundle in chunks of at most 1 MiB", func(t *testing.T) {
		var want bytes.Buffer
		if err := n.audit.Export(ctx, &want); err != nil {
			t.Fatal(err)
		}
		s := &exportStream{ctx: ctx}
		if err := srv.Export(&auditpb.ExportRequest{}, s); err != nil {
			t.Fatal(err)
		}
		if len(s.chunks) < 2 || want.Len() <= api.MaxExportChunk {
			t.Fatalf("%d chunks for %d bytes: the test wants more than one", len(s.chunks), want.Len())
		}
		for i, ch := range s.chunks {
			if len(ch) == 0 || len(ch) > api.MaxExportChunk {
				t.Fatalf("chunk %d has %d bytes", i, len(ch))
			}
		}
		if !bytes.Equal(bytes.Join(s.chunks, nil), want.Bytes()) {
			t.Fatal("chunks differ from audit.Log.Export")
		}
	})
	t.Run("ok/latest verifies with the node's key", func(t *testing.T) {
		sc, err := srv.Latest(ctx, &auditpb.LatestRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if sc.Size != 5000 || sc.Origin != "coffer/test/node1" || len(sc.RootHash) != 32 {
			t.Fatalf("latest %d %s", sc.Size, sc.Origin)
		}
	})
	t.Run("ok/entries are paged", func(t *testing.T) {
		r, err := srv.Entries(ctx, &auditpb.EntriesRequest{Begin: 10, End: 5000})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Entries) != api.MaxEntriesPerCall || r.Entries[0].Index != 10 {
			t.Fatalf("%d entries from %d", len(r.Entries), r.Entries[0].Index)
		}
		if rec, err := audit.DecodeRecord(r.Entries[0].Leaf); err != nil || rec.Index != 10 {
			t.Fatalf("leaf: %v %v", rec.Index, err)
		}
	})
	t.Run("ok/proofs verify with transparency-dev/merkle alone", func(t *testing.T) {
		cp2, _ := n.audit.Checkpoint(ctx, 5000)
		es, _ := srv.Entries(ctx, &auditpb.EntriesRequest{Begin: 1234, End: 1235})
		inc, err := srv.InclusionProof(ctx, &auditpb.InclusionProofRequest{Index: 1234, TreeSize: 5000})
		if err != nil {
			t.Fatal(err)
		}
		leaf := rfc6962.DefaultHasher.HashLeaf(es.Entries[0].Leaf)
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, 1234, 5000, leaf, inc.Hashes, cp2.Hash); err != nil {
			t.Fatal(err)
		}
		c.appendN(n, 3, "y")
		cons, err := srv.ConsistencyProof(ctx, &auditpb.ConsistencyProofRequest{Size1: 5000, Size2: 5003})
		if err != nil {
			t.Fatal(err)
		}
		cp3, _ := n.audit.Latest(ctx)
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, 5000, 5003, cons.Hashes, cp2.Hash, cp3.Hash); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"fail/entries beyond the log", func() error {
			_, err := srv.Entries(ctx, &auditpb.EntriesRequest{Begin: 0, End: 6000})
			return err
		}, codes.OutOfRange},
		{"fail/entries with begin after end", func() error {
			_, err := srv.Entries(ctx, &auditpb.EntriesRequest{Begin: 9, End: 3})
			return err
		}, codes.OutOfRange},
		{"fail/inclusion of an entry outside the tree", func() error {
			_, err := srv.InclusionProof(ctx, &auditpb.InclusionProofRequest{Index: 10, TreeSize: 10})
			return err
		}, codes.OutOfRange},
		{"fail/consistency to a size the log does not have", func() error {
			_, err := srv.ConsistencyProof(ctx, &auditpb.ConsistencyProofRequest{Size1: 1, Size2: 1 << 40})
			return err
		}, codes.OutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); status.Code(err) != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
