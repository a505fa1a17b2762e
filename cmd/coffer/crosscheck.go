package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/internal/devcluster"
	"github.com/cofferhq/coffer/internal/review"
)

// majority is how many nodes an officer's client asks by default: more
// than half of the cluster, which is t+1 for the usual t < n/2, so at
// least one node that is not compromised built the same request.
func majority(n int) int { return n/2 + 1 }

// vouch asks the cluster's other nodes for the transfer, with the same
// client certificate, until need nodes in all (first included) showed the
// same request. Each node builds the transaction and its digest itself. A
// node that shows anything else ends it: nothing is signed. Nodes that do
// not answer are skipped; too few answers is a refusal too.
func vouch(ctx context.Context, w io.Writer, l *devcluster.Layout, cc devcluster.ClientCert, first string, t *transferpb.Transfer, need int) error {
	agreed := 1
	for _, n := range l.Nodes {
		if agreed >= need {
			break
		}
		if n.ID == first {
			continue
		}
		other, err := fetchFrom(ctx, l, n.ID, cc, t.RequestId)
		if err != nil {
			fmt.Fprintf(w, "  %-11s %s did not answer: %v\n", "cross-check", n.ID, err)
			continue
		}
		if err := review.Agree(t, other); err != nil {
			return fmt.Errorf("%s and %s show different requests (%w); not signing", first, n.ID, err)
		}
		agreed++
		fmt.Fprintf(w, "  %-11s %s built the same request and digest\n", "cross-check", n.ID)
	}
	if agreed < need {
		return fmt.Errorf("only %d of the %d nodes needed showed the request; not signing", agreed, need)
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
