package signer

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/api/transferpb"
)

// propose relays a client command to the given nodes, which check it
// themselves. Failures are logged: a node that missed a request refuses to
// sign it later, which fails closed.
func (n *Node) propose(ctx context.Context, nodes []string, p *peerpb.Proposal) map[string]error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := map[string]error{}
	for _, node := range nodes {
		if node == n.cfg.Node {
			continue
		}
		wg.Add(1)
		go func(node string) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			cl, err := n.client.Peer(node)
			if err == nil {
				_, err = cl.Propose(pctx, p)
			}
			if err != nil {
				n.log.Warn("relay to peer failed", "peer", node, "kind", p.Kind, "request", p.RequestId, "err", statusMessage(err))
				mu.Lock()
				errs[node] = err
				mu.Unlock()
			}
		}(node)
	}
	wg.Wait()
	return errs
}

func (n *Node) memberIDs() []string {
	out := make([]string, 0, len(n.cfg.Members))
	for _, m := range n.cfg.Members {
		out = append(out, m.ID)
	}
	return out
}

func proposal(kind string, msg proto.Message, initiator, role, id string, at time.Time) *peerpb.Proposal {
	b, _ := proto.Marshal(msg)
	return &peerpb.Proposal{Kind: kind, Payload: b, Initiator: initiator, InitiatorRole: role, AtUnixMs: at.UnixMilli(), RequestId: id}
}

// Propose implements peer.Handler: a relayed command, checked here as if a
// client had sent it to this node.
func (n *Node) Propose(ctx context.Context, from string, p *peerpb.Proposal) (*peerpb.ProposalResult, error) {
	at := time.UnixMilli(p.AtUnixMs).UTC()
	switch p.Kind {
	case "submit":
		var req transferpb.SubmitRequest
		if err := proto.Unmarshal(p.Payload, &req); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "propose: %v", err)
		}
		t, err := n.submitTransfer(ctx, req.Intent, p.Initiator, p.InitiatorRole, from, at, true)
		if err != nil {
			return nil, clientStatus(err)
		}
		return &peerpb.ProposalResult{State: string(t.State)}, nil
	case "decide":
		var req transferpb.DecideRequest
		if err := proto.Unmarshal(p.Payload, &req); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "propose: %v", err)
		}
		if d := n.now().Sub(at); d > maxSkew || d < -maxSkew {
			return nil, status.Errorf(codes.InvalidArgument, "propose: decision stamped %s from this node's clock", d.Round(time.Second))
		}
		t, err := n.recordDecision(ctx, &req, at)
		if err != nil {
			return nil, clientStatus(err)
		}
		n.kick(t)
		return &peerpb.ProposalResult{State: string(t.State)}, nil
	case "policy":
		var req operatorpb.SubmitPolicyRequest
		if err := proto.Unmarshal(p.Payload, &req); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "propose: %v", err)
		}
		if d := n.now().Sub(at); d > maxSkew || d < -maxSkew {
			return nil, status.Errorf(codes.InvalidArgument, "propose: policy stamped %s from this node's clock", d.Round(time.Second))
		}
		if _, err := n.submitPolicy(ctx, req.Document, req.Signatures, at, false); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return &peerpb.ProposalResult{}, nil
	default:
		return nil, status.Errorf(codes.InvalidArgument, "propose: unknown kind %q", p.Kind)
	}
}
