package api

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/ledger"
	ctss "github.com/cofferhq/coffer/signer/tss"
)

type operatorAPI struct {
	operatorpb.UnimplementedOperatorServer
	d Deps
}

func (a *operatorAPI) checkParties(parties []string) error {
	if len(parties) == 0 {
		return status.Error(codes.InvalidArgument, "no parties named")
	}
	seen := map[string]bool{}
	for _, p := range parties {
		if _, ok := a.d.Members[p]; !ok {
			return status.Errorf(codes.InvalidArgument, "%q is not a cluster member", p)
		}
		if seen[p] {
			return status.Errorf(codes.InvalidArgument, "%q is named twice", p)
		}
		seen[p] = true
	}
	return nil
}

func streamProgress(send func(*operatorpb.Progress) error) Progress {
	return func(stage, node string, p *ctss.Progress) {
		msg := &operatorpb.Progress{Stage: stage, Node: node}
		if p != nil {
			msg.Round, msg.Rounds = int32(p.Round), int32(p.Rounds)
		}
		_ = send(msg)
	}
}

// Keygen implements operatorpb.OperatorServer.
func (a *operatorAPI) Keygen(req *operatorpb.KeygenRequest, stream operatorpb.Operator_KeygenServer) error {
	if !ctss.ValidKeyID(req.KeyId) {
		return status.Errorf(codes.InvalidArgument, "malformed key ID %q (lowercase letters, digits, '.', '_', '-')", req.KeyId)
	}
	if err := a.checkParties(req.Parties); err != nil {
		return err
	}
	if req.Threshold < 1 || int(req.Threshold) >= len(req.Parties) {
		return status.Errorf(codes.InvalidArgument, "threshold %d needs 1 <= t < %d parties", req.Threshold, len(req.Parties))
	}
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_KEYGEN, KeyId: req.KeyId, Parties: slices.Sorted(slices.Values(req.Parties)), Threshold: req.Threshold}
	resps, err := a.d.Sessions.Coordinate(stream.Context(), spec, streamProgress(stream.Send))
	if err != nil {
		return a.sessionStatus(err)
	}
	var pub []byte
	for node, r := range resps {
		if pub != nil && !bytes.Equal(pub, r.PublicKey) {
			return status.Errorf(codes.Internal, "keygen of %s: %s reports another public key", req.KeyId, node)
		}
		pub = r.PublicKey
	}
	rec, err := a.d.Ledger.Key(req.KeyId)
	if err != nil || !bytes.Equal(rec.PublicKey, pub) {
		return status.Errorf(codes.Internal, "keygen of %s: this node's record does not match", req.KeyId)
	}
	return stream.Send(&operatorpb.Progress{Stage: "complete", Node: a.d.Node, Key: keyInfo(rec)})
}

// Reshare implements operatorpb.OperatorServer.
func (a *operatorAPI) Reshare(req *operatorpb.ReshareRequest, stream operatorpb.Operator_ReshareServer) error {
	rec, err := a.d.Ledger.Key(req.KeyId)
	if err != nil {
		return status.Errorf(codes.NotFound, "key %s: %v", req.KeyId, err)
	}
	if err := a.checkParties(req.OldParties); err != nil {
		return err
	}
	if err := a.checkParties(req.NewParties); err != nil {
		return err
	}
	if req.NewThreshold < 1 || int(req.NewThreshold) >= len(req.NewParties) {
		return status.Errorf(codes.InvalidArgument, "new threshold %d needs 1 <= t < %d parties", req.NewThreshold, len(req.NewParties))
	}
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_RESHARE, KeyId: req.KeyId,
		Parties: slices.Sorted(slices.Values(req.OldParties)), NewParties: slices.Sorted(slices.Values(req.NewParties)),
		NewThreshold: req.NewThreshold, OldGeneration: rec.Generation, OldThreshold: int32(rec.Threshold),
		OldCommittee: rec.Nodes(), PublicKey: rec.PublicKey}
	if _, err := a.d.Sessions.Coordinate(stream.Context(), spec, streamProgress(stream.Send)); err != nil {
		return a.sessionStatus(err)
	}
	after, err := a.d.Ledger.Key(req.KeyId)
	if err != nil {
		return status.Errorf(codes.Internal, "reshare of %s: %v", req.KeyId, err)
	}
	return stream.Send(&operatorpb.Progress{Stage: "complete", Node: a.d.Node, Key: keyInfo(after)})
}

// SelfTestSign implements operatorpb.OperatorServer.
func (a *operatorAPI) SelfTestSign(ctx context.Context, req *operatorpb.SelfTestSignRequest) (*operatorpb.SelfTestSignResponse, error) {
	if !a.d.SelfTestSigning {
		return nil, status.Error(codes.FailedPrecondition, "self-test signing is disabled on this node")
	}
	if len(req.Nonce) != 32 {
		return nil, status.Error(codes.InvalidArgument, "nonce must be 32 bytes")
	}
	if err := a.checkParties(req.Parties); err != nil {
		return nil, err
	}
	start := time.Now()
	spec := &peerpb.SessionSpec{Kind: peerpb.Kind_KIND_SIGN, KeyId: req.KeyId, Parties: slices.Sorted(slices.Values(req.Parties)),
		SelftestNonce: req.Nonce, DerivationPath: req.DerivationPath}
	resps, err := a.d.Sessions.Coordinate(ctx, spec, nil)
	if err != nil {
		return nil, a.sessionStatus(err)
	}
	r := resps[a.d.Node]
	pub, err := ctss.ParsePubKey(r.PublicKey)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "sign: %v", err)
	}
	digest := ctss.SelfTestDigest(req.KeyId, req.Nonce)
	rr, ss := new(big.Int).SetBytes(r.SignatureR), new(big.Int).SetBytes(r.SignatureS)
	if !ecdsa.Verify(pub, digest[:], rr, ss) {
		return nil, status.Error(codes.Internal, "sign: combined signature does not verify")
	}
	return &operatorpb.SelfTestSignResponse{Digest: digest[:], PublicKey: r.PublicKey, SignatureR: r.SignatureR, SignatureS: r.SignatureS,
		SignatureRecovery: r.SignatureRecovery, ElapsedUs: time.Since(start).Microseconds()}, nil
}

// ListKeys implements operatorpb.OperatorServer.
func (a *operatorAPI) ListKeys(context.Context, *operatorpb.ListKeysRequest) (*operatorpb.ListKeysResponse, error) {
	recs, err := a.d.Ledger.Keys()
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list keys: %v", err)
	}
	out := &operatorpb.ListKeysResponse{}
	for _, r := range recs {
		out.Keys = append(out.Keys, keyInfo(r))
	}
	return out, nil
}

// Status implements operatorpb.OperatorServer.
func (a *operatorAPI) Status(context.Context, *operatorpb.StatusRequest) (*operatorpb.StatusResponse, error) {
	pooled, err := a.d.Ledger.PreParamsCount()
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "status: %v", err)
	}
	recs, _ := a.d.Ledger.Keys()
	return &operatorpb.StatusResponse{Node: a.d.Node, PreparamsPooled: int32(pooled),
		PreparamsTarget: int32(a.d.PreParamsTarget), Keys: int32(len(recs)), SessionsActive: int32(a.d.Sessions.Active()),
		TssConstantTime: ctss.ConstantTime(), TssLibrary: ctss.Library()}, nil
}

func keyInfo(r ledger.KeyRecord) *operatorpb.KeyInfo {
	return &operatorpb.KeyInfo{KeyId: r.ID, PublicKey: r.PublicKey, Threshold: int32(r.Threshold),
		Committee: r.Nodes(), Generation: r.Generation, ChainCode: r.ChainCode}
}

func (a *operatorAPI) sessionStatus(err error) error {
	switch a.d.Classify(err) {
	case KindAborted:
		return status.Error(codes.Aborted, err.Error())
	case KindPrecondition:
		return status.Error(codes.FailedPrecondition, err.Error())
	default:
		return status.Error(codes.Internal, fmt.Sprintf("session: %v", err))
	}
}

// SubmitPolicy implements operatorpb.OperatorServer.
func (a *operatorAPI) SubmitPolicy(ctx context.Context, req *operatorpb.SubmitPolicyRequest) (*operatorpb.PolicyInfo, error) {
	if err := a.d.Policy.Submit(ctx, req.Document, req.Signatures); err != nil {
		if a.d.Classify(err) == KindInvalid {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return a.d.Policy.Info(), nil
}

// GetPolicy implements operatorpb.OperatorServer.
func (a *operatorAPI) GetPolicy(context.Context, *operatorpb.GetPolicyRequest) (*operatorpb.PolicyInfo, error) {
	return a.d.Policy.Info(), nil
}

// ReplicationStatus implements operatorpb.OperatorServer.
func (a *operatorAPI) ReplicationStatus(context.Context, *operatorpb.ReplicationStatusRequest) (*operatorpb.ReplicationStatusResponse, error) {
	rep := a.d.Replica()
	if rep == nil {
		return nil, status.Error(codes.Unavailable, "replication not started")
	}
	return replicationStatus(rep), nil
}

func replicationStatus(rep Replication) *operatorpb.ReplicationStatusResponse {
	s := rep.Status()
	return &operatorpb.ReplicationStatusResponse{Node: s.Node, State: s.State, Leader: s.Leader, Term: s.Term,
		CommitIndex: s.Commit, LastIndex: s.Last, AppliedIndex: s.Applied, Voters: s.Voters, Broken: s.Broken}
}

// AddVoter implements operatorpb.OperatorServer.
func (a *operatorAPI) AddVoter(ctx context.Context, req *operatorpb.VoterRequest) (*operatorpb.ReplicationStatusResponse, error) {
	return a.changeVoters(ctx, req, true)
}

// RemoveVoter implements operatorpb.OperatorServer.
func (a *operatorAPI) RemoveVoter(ctx context.Context, req *operatorpb.VoterRequest) (*operatorpb.ReplicationStatusResponse, error) {
	return a.changeVoters(ctx, req, false)
}

// changeVoters adds or removes a voter of the log, on the leader only. A
// voter must be a member of this node's config (its identity is pinned
// there, so the raft transport accepts it); the last voter and this node
// itself, while it leads, cannot be removed.
func (a *operatorAPI) changeVoters(ctx context.Context, req *operatorpb.VoterRequest, add bool) (*operatorpb.ReplicationStatusResponse, error) {
	rep := a.d.Replica()
	if rep == nil {
		return nil, status.Error(codes.Unavailable, "replication not started")
	}
	node := req.GetNode()
	addr, ok := a.d.Members[node]
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "%q is not a member in %s's config: add it to every node's members first", node, a.d.Node)
	}
	st := rep.Status()
	if st.State != "Leader" {
		return nil, status.Errorf(codes.FailedPrecondition, "%s is not the leader; ask %s", a.d.Node, cmp.Or(st.Leader, "the leader once one is elected"))
	}
	isVoter := slices.Contains(st.Voters, node)
	verb := "add"
	var err error
	switch {
	case add && isVoter:
		return replicationStatus(rep), nil
	case add:
		err = rep.AddVoter(node, addr)
	case !isVoter:
		return replicationStatus(rep), nil
	case len(st.Voters) <= 1:
		return nil, status.Error(codes.FailedPrecondition, "the last voter cannot be removed")
	case node == a.d.Node:
		return nil, status.Errorf(codes.FailedPrecondition, "%s leads the log and cannot remove itself; stop it so another node leads, or ask another node once it leads", a.d.Node)
	default:
		verb = "remove"
		err = rep.RemoveServer(node)
	}
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "%s voter %s: %v", verb, node, err)
	}
	by := "unknown"
	if id, err := clientIdentity(ctx); err == nil {
		by = id.Name
	}
	a.d.Log.Warn("voters changed", "op", verb, "voter", node, "by", by)
	return replicationStatus(rep), nil
}
