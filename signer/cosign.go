package signer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cofferhq/coffer/api/peerpb"
	"github.com/cofferhq/coffer/audit"
)

// maxProofHashes bounds a consistency proof on the wire: an RFC 6962
// proof between two trees of up to 2^64 leaves has at most 2·64 hashes.
const maxProofHashes = 128

// AuditVerifierKeys returns the note verifier key of every member's audit
// log ("coffer/<cluster>/<node>+hash+base64"), in the members' order,
// made from the identity keys the config lists: what a trust file pins
// and what nodes cosign with.
func AuditVerifierKeys(cfg *Config) ([]string, error) {
	keys := make([]string, 0, len(cfg.Members))
	for _, m := range cfg.Members {
		k, err := memberVerifierKey(cfg.Cluster, m)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// auditPeerKeys are the verifier keys of the other members' logs: the
// checkpoints this node cosigns (DESIGN.md §7).
func auditPeerKeys(cfg *Config) ([]string, error) {
	all, err := AuditVerifierKeys(cfg)
	if err != nil {
		return nil, err
	}
	var keys []string
	for i, m := range cfg.Members {
		if m.ID != cfg.Node {
			keys = append(keys, all[i])
		}
	}
	return keys, nil
}

// memberVerifierKey is the note verifier key of a member's audit log.
func memberVerifierKey(cluster string, m MemberConfig) (string, error) {
	pub, err := hex.DecodeString(m.IdentityKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("audit key of member %s: identity key is not a hex Ed25519 public key", m.ID)
	}
	origin, err := audit.Origin(cluster, m.ID)
	if err != nil {
		return "", fmt.Errorf("audit key of member %s: %w", m.ID, err)
	}
	k, err := audit.VerifierKey(origin, ed25519.PublicKey(pub))
	if err != nil {
		return "", fmt.Errorf("audit key of member %s: %w", m.ID, err)
	}
	return k, nil
}

// auditVerifiers are the verifiers of every member's audit log, this
// node's included, and of every member's cosignatures.
func (n *Node) auditVerifiers() (note.Verifiers, error) {
	var list []note.Verifier
	for _, m := range n.cfg.Members {
		k, err := memberVerifierKey(n.cfg.Cluster, m)
		if err != nil {
			return nil, err
		}
		vs, err := audit.NoteVerifiers(k) // its checkpoints, and its cosignatures
		if err != nil {
			return nil, fmt.Errorf("audit key of member %s: %w", m.ID, err)
		}
		list = append(list, vs...)
	}
	return note.VerifierList(list...), nil
}

// Cosign implements peer.Handler: it witnesses the caller's own audit
// checkpoint. The audit log checks the caller's signature and that the
// checkpoint extends the last one cosigned for the caller; a proof from
// another size than that one is answered with the size to prove from.
func (n *Node) Cosign(ctx context.Context, from string, req *peerpb.CosignRequest) (*peerpb.CosignResponse, error) {
	if len(req.SignedCheckpoint) == 0 || len(req.SignedCheckpoint) > audit.MaxCheckpointSize {
		return nil, status.Errorf(codes.InvalidArgument, "cosign: signed checkpoint of %d bytes (1 to %d)", len(req.SignedCheckpoint), audit.MaxCheckpointSize)
	}
	if len(req.ConsistencyProof) > maxProofHashes {
		return nil, status.Errorf(codes.InvalidArgument, "cosign: consistency proof of %d hashes (at most %d)", len(req.ConsistencyProof), maxProofHashes)
	}
	for i, h := range req.ConsistencyProof {
		if len(h) != 32 {
			return nil, status.Errorf(codes.InvalidArgument, "cosign: consistency proof hash %d is %d bytes, want 32", i, len(h))
		}
	}
	origin, err := audit.Origin(n.cfg.Cluster, from)
	if err != nil {
		return nil, status.Errorf(codes.PermissionDenied, "cosign: caller %q has no log origin", from)
	}
	cp, err := audit.ParseCheckpoint(checkpointText(req.SignedCheckpoint))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "cosign: %v", err)
	}
	if cp.Origin != origin {
		return nil, status.Errorf(codes.PermissionDenied, "cosign: %s submitted a checkpoint of %s; a node submits only its own", from, cp.Origin)
	}
	last, seen, err := n.audit.LastCosigned(ctx, origin)
	if err != nil {
		n.log.Error("cosign: read last cosigned checkpoint", "peer", from, "err", err)
		return nil, status.Error(codes.Unavailable, "cosign: this node cannot read its audit log")
	}
	if seen && (last.Size > cp.Size || last.Size == cp.Size && !bytes.Equal(last.Hash, cp.Hash)) {
		// the caller's store was rolled back: hand it back its own
		// signature, so that it refuses to sign a second root for a size
		n.log.Error("a peer's audit log is behind a checkpoint of it this node cosigned: its store was rolled back",
			"peer", from, "size", cp.Size, "cosigned", last.Size)
		return &peerpb.CosignResponse{Ahead: last.Note, LastSize: last.Size}, nil
	}
	if seen && last.Size < cp.Size && last.Size != req.FromSize {
		return &peerpb.CosignResponse{NeedProof: true, LastSize: last.Size}, nil
	}
	out, err := n.audit.Cosign(ctx, req.SignedCheckpoint, req.ConsistencyProof)
	if errors.Is(err, audit.ErrInconsistent) && seen {
		// a larger tree that does not extend the one cosigned: hand the
		// caller its own checkpoint back, so it can see it forked
		n.log.Error("a peer's audit log does not extend a checkpoint of it this node cosigned", "peer", from, "size", cp.Size, "cosigned", last.Size)
		return &peerpb.CosignResponse{Ahead: last.Note, LastSize: last.Size}, nil
	}
	if err != nil {
		n.log.Warn("refused to cosign a peer's audit checkpoint", "peer", from, "size", cp.Size, "err", err)
		return nil, cosignStatus(from, cp, err)
	}
	return &peerpb.CosignResponse{Cosigned: out, LastSize: cp.Size}, nil
}

// checkpointText is the text of a signed note (up to the blank line
// before its signatures), for reading the origin before the signature
// is checked; the audit log checks the note itself.
func checkpointText(signed []byte) []byte {
	for i := 0; i+1 < len(signed); i++ {
		if signed[i] == '\n' && signed[i+1] == '\n' {
			return signed[:i+1]
		}
	}
	return signed
}

// cosignStatus maps the audit log's refusals to statuses the caller can
// act on, and keeps internals out of the message.
func cosignStatus(from string, cp audit.Checkpoint, err error) error {
	msg := fmt.Sprintf("cosign checkpoint of %s size %d", from, cp.Size)
	switch {
	case errors.Is(err, audit.ErrFork):
		return status.Errorf(codes.Aborted, "%s: refused: this node cosigned another root for that size (a fork)", msg)
	case errors.Is(err, audit.ErrStale):
		return status.Errorf(codes.FailedPrecondition, "%s: refused: this node already cosigned a larger tree (a rollback)", msg)
	case errors.Is(err, audit.ErrInconsistent):
		return status.Errorf(codes.FailedPrecondition, "%s: refused: it does not extend the last checkpoint this node cosigned", msg)
	case errors.Is(err, audit.ErrSignature), errors.Is(err, audit.ErrMalformed):
		return status.Errorf(codes.InvalidArgument, "%s: %v", msg, err)
	case errors.Is(err, audit.ErrUnknownNode):
		return status.Errorf(codes.PermissionDenied, "%s: not a configured peer", msg)
	default:
		return status.Errorf(codes.Unavailable, "%s: this node could not store its cosignature", msg)
	}
}

// OwnAuditKey is the origin and note verifier key of this node's own
// audit log, from the config's members.
func OwnAuditKey(cfg *Config) (origin, key string, err error) {
	for _, m := range cfg.Members {
		if m.ID == cfg.Node {
			if key, err = memberVerifierKey(cfg.Cluster, m); err != nil {
				return "", "", err
			}
			origin, err = audit.Origin(cfg.Cluster, m.ID)
			return origin, key, err
		}
	}
	return "", "", fmt.Errorf("audit key: node %s is not among the members", cfg.Node)
}
