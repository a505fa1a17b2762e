package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
)

// crossCheck fetches the transfer from every other node of the cluster
// with the same client certificate and refuses unless each one shows the
// same request digest and the same decoded transaction. Each node builds
// the transaction and its digest itself, so an officer who cross-checks
// does not rely on one node to show what they sign.
func crossCheck(ctx context.Context, w io.Writer, l *devcluster.Layout, cc devcluster.ClientCert, seen string, t *transferpb.Transfer) error {
	for _, n := range l.Nodes {
		if n.ID == seen {
			continue
		}
		other, err := fetchFrom(ctx, l, n.ID, cc, t.RequestId)
		if err != nil {
			return fmt.Errorf("cross-check with %s: %w", n.ID, err)
		}
		if !bytes.Equal(other.Digest, t.Digest) {
			return fmt.Errorf("cross-check with %s: it shows digest %x, %s showed %x; not signing", n.ID, other.Digest, seen, t.Digest)
		}
		if !proto.Equal(other.Summary, t.Summary) {
			return fmt.Errorf("cross-check with %s: it decodes another transaction than %s; not signing", n.ID, seen)
		}
		fmt.Fprintf(w, "  %-11s %s shows the same digest and transaction\n", "cross-check", n.ID)
	}
	return nil
}

func fetchFrom(ctx context.Context, l *devcluster.Layout, node string, cc devcluster.ClientCert, id string) (*transferpb.Transfer, error) {
	cl, err := l.DialAs(node, cc)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := callCtx(ctx)
	defer cancel()
	t, err := cl.Transfers.Get(ctx, &transferpb.GetRequest{RequestId: id})
	if err != nil {
		return nil, callErr("get "+id, err)
	}
	return t, nil
}
